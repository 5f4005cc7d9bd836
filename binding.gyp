{
  "targets": [
    {
      "target_name": "tcp_info",
      "sources": ["native/tcp_info.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
