/*
 * tcpInfo(fd): the kernel's TCP_INFO of a connected TCP socket (Linux), the figures netprobe reads:
 * the smoothed RTT the sender's TCP keeps from its ACKs (timed by the kernel, so no user-space
 * wake-up in it), its variation, the path's minimum RTT, the segments retransmitted so far and the
 * segments the peer has acknowledged, cumulatively or selectively (tcpi_delivered).
 * Throws an Error with the errno's text when getsockopt fails (a closed or non-TCP fd).
 */
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>

#ifndef TCP_RTO_MIN_US
#define TCP_RTO_MIN_US 45 /* Linux 6.15 and later; older build hosts' headers lack it */
#endif

static int set_number(napi_env env, napi_value object, const char *name, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok && napi_set_named_property(env, object, name, v) == napi_ok;
}

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
           set_number(env, out, "totalRetrans", ti.tcpi_total_retrans) && set_number(env, out, "delivered", ti.tcpi_delivered) &&
           set_number(env, out, "bytesAcked", (double)ti.tcpi_bytes_acked) && set_number(env, out, "sndMss", ti.tcpi_snd_mss) &&
           set_number(env, out, "dataSegsIn", ti.tcpi_data_segs_in) &&
           set_number(env, out, "bytesReceived", (double)ti.tcpi_bytes_received) && set_number(env, out, "rcvMss", ti.tcpi_rcv_mss);
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
