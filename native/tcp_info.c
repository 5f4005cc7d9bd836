/*
 * tcpInfo(fd): the kernel's TCP_INFO of a connected TCP socket (Linux), the figures netprobe reads:
 * the smoothed RTT the sender's TCP keeps from its ACKs (timed by the kernel, so no user-space
 * wake-up in it), its variation, the path's minimum RTT and the segments retransmitted so far.
 * Throws an Error with the errno's text when getsockopt fails (a closed or non-TCP fd).
 */
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>

static int set_number(napi_env env, napi_value object, const char *name, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok && napi_set_named_property(env, object, name, v) == napi_ok;
}

/* The call's one argument, a file descriptor, into *fd; 0 (a TypeError with `usage` thrown) when it is none. */
static int fd_arg(napi_env env, napi_callback_info info, const char *usage, int32_t *fd) {
  size_t argc = 1;
  napi_value argv[1];
  *fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], fd) != napi_ok || *fd < 0) {
    napi_throw_type_error(env, NULL, usage);
    return 0;
  }
  return 1;
}

static napi_value tcp_info(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!fd_arg(env, info, "tcpInfo(fd): fd is a file descriptor (a whole number >= 0)", &fd)) return NULL;
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  memset(&ti, 0, sizeof ti);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) {
    napi_throw_error(env, "NETPROBE_TCP_INFO", strerror(errno));
    return NULL;
  }
  napi_value out;
  if (napi_create_object(env, &out) != napi_ok) return NULL;
  int ok = set_number(env, out, "state", ti.tcpi_state) && set_number(env, out, "rttUs", ti.tcpi_rtt) &&
           set_number(env, out, "rttVarUs", ti.tcpi_rttvar) && set_number(env, out, "minRttUs", ti.tcpi_min_rtt) &&
           set_number(env, out, "totalRetrans", ti.tcpi_total_retrans);
  return ok ? out : NULL;
}

/*
 * quickAck(fd): switches the connection to quickack mode (TCP_QUICKACK), so the kernel acknowledges
 * the next segments at once instead of holding the ACK for a reply to carry. Not permanent: TCP
 * leaves the mode again as it sees fit. Throws like tcpInfo.
 */
static napi_value quick_ack(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!fd_arg(env, info, "quickAck(fd): fd is a file descriptor (a whole number >= 0)", &fd)) return NULL;
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one) != 0) {
    napi_throw_error(env, "NETPROBE_TCP_INFO", strerror(errno));
    return NULL;
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "tcpInfo", NAPI_AUTO_LENGTH, tcp_info, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "tcpInfo", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "quickAck", NAPI_AUTO_LENGTH, quick_ack, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "quickAck", fn) != napi_ok) return NULL;
  return exports;
}
