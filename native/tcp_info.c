/*
 * tcpInfo(fd, out): the kernel's TCP_INFO of a connected TCP socket (Linux), the figures netprobe
 * reads, written into `out`, a Float64Array of TCP_INFO_FIELDS numbers in this order: state, the
 * smoothed RTT the sender's TCP keeps from its ACKs (µs; timed by the kernel, so no user-space
 * wake-up in it), its variation, the path's minimum RTT, the segments retransmitted so far, the
 * segments the peer has acknowledged cumulatively or selectively (tcpi_delivered), the bytes it has
 * acknowledged, the send MSS, the data segments received, the bytes received in order and the
 * receive MSS. Numbers in a caller's array rather than a new object: setting eleven named
 * properties through N-API cost more than the system call (src/tcp-info.ts reads them by index).
 * Throws an Error with the errno's text when getsockopt fails (a closed or non-TCP fd), and a
 * TypeError when `out` is not a Float64Array of at least TCP_INFO_FIELDS numbers.
 */
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#ifndef TCP_RTO_MIN_US
#define TCP_RTO_MIN_US 45 /* Linux 6.15 and later; older build hosts' headers lack it */
#endif

#define TCP_INFO_FIELDS 11

/*
 * The call's whole-number arguments (>= 0), a file descriptor first, into args[0..n-1]; 0 (a TypeError
 * with `usage` thrown) when one is missing or is none.
 */
static int int_args(napi_env env, napi_callback_info info, const char *usage, size_t n, int32_t *args) {
  size_t argc = 2;
  napi_value argv[2];
  int ok = n <= 2 && napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= n;
  for (size_t i = 0; ok && i < n; i++) ok = napi_get_value_int32(env, argv[i], &args[i]) == napi_ok && args[i] >= 0;
  if (!ok) napi_throw_type_error(env, NULL, usage);
  return ok;
}

static int fd_arg(napi_env env, napi_callback_info info, const char *usage, int32_t *fd) {
  return int_args(env, info, usage, 1, fd);
}

static napi_value tcp_info(napi_env env, napi_callback_info info) {
  const char *usage = "tcpInfo(fd, out): fd is a file descriptor (a whole number >= 0), out a Float64Array of 11 numbers";
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1;
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || napi_is_typedarray(env, argv[1], &is_typed) != napi_ok ||
      !is_typed || napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length < TCP_INFO_FIELDS) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  memset(&ti, 0, sizeof ti);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) {
    napi_throw_error(env, "NETPROBE_TCP_INFO", strerror(errno));
    return NULL;
  }
  double *out = data;
  out[0] = ti.tcpi_state;
  out[1] = ti.tcpi_rtt;
  out[2] = ti.tcpi_rttvar;
  out[3] = ti.tcpi_min_rtt;
  out[4] = ti.tcpi_total_retrans;
  out[5] = ti.tcpi_delivered;
  out[6] = (double)ti.tcpi_bytes_acked;
  out[7] = ti.tcpi_snd_mss;
  out[8] = ti.tcpi_data_segs_in;
  out[9] = (double)ti.tcpi_bytes_received;
  out[10] = ti.tcpi_rcv_mss;
  return NULL;
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

/*
 * minRto(fd, us): sets the connection's minimum retransmission timeout (TCP_RTO_MIN_US, Linux 6.15
 * and later; the kernel rounds it up to whole jiffies) and returns the one it had, in µs. Why
 * netprobe wants it: a receiver that has had no data for longer than its RTO acknowledges the next
 * segments at once (its kernel's quickack mode), so with an RTO shorter than the gap between two
 * PINGs each PING is acknowledged as it arrives, whatever its process is doing. Throws like tcpInfo
 * (ENOPROTOOPT on older kernels).
 */
static napi_value min_rto(napi_env env, napi_callback_info info) {
  int32_t args[2];
  if (!int_args(env, info, "minRto(fd, us): fd and us are whole numbers >= 0", 2, args)) return NULL;
  int before = 0;
  socklen_t len = sizeof before;
  if (getsockopt(args[0], IPPROTO_TCP, TCP_RTO_MIN_US, &before, &len) != 0 ||
      setsockopt(args[0], IPPROTO_TCP, TCP_RTO_MIN_US, &args[1], sizeof args[1]) != 0) {
    napi_throw_error(env, "NETPROBE_TCP_INFO", strerror(errno));
    return NULL;
  }
  napi_value out;
  return napi_create_int32(env, before, &out) == napi_ok ? out : NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "tcpInfo", NAPI_AUTO_LENGTH, tcp_info, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "tcpInfo", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "quickAck", NAPI_AUTO_LENGTH, quick_ack, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "quickAck", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "minRto", NAPI_AUTO_LENGTH, min_rto, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "minRto", fn) != napi_ok) return NULL;
  return exports;
}
