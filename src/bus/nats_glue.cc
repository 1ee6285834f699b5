// cnats glue shared by bus.cc and jetstream.cc (see nats_glue.h).
#include "bus/nats_glue.h"

#include <cstring>

namespace sp::bus_internal {

Status FromNats(natsStatus s, std::string_view what) {
  if (s == NATS_OK) return Status::Ok();
  std::string msg = std::string(what) + ": " + natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last && *last && std::strstr(msg.c_str(), last) == nullptr) msg += " (" + std::string(last) + ")";
  switch (s) {
    case NATS_TIMEOUT:
      return Status::DeadlineExceeded(msg);
    case NATS_NO_RESPONDERS:
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
      return Status::Unavailable(msg);
    case NATS_NOT_PERMITTED:
    case NATS_CONNECTION_AUTH_FAILED:
      return Status::PermissionDenied(msg);
    default:
      return Status::Internal(msg);
  }
}

BusMessage ToMessage(natsMsg* m) {
  BusMessage out;
  out.subject = natsMsg_GetSubject(m);
  const char* reply = natsMsg_GetReply(m);
  if (reply) out.reply = reply;
  out.data.assign(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
  return out;
}

// A random token for consumer names and inbox suffixes.
std::string NewToken() {
  natsInbox* inbox = nullptr;
  natsInbox_Create(&inbox);  // "_INBOX.<nuid>"
  std::string s = inbox;
  natsInbox_Destroy(inbox);
  return s.substr(s.rfind('.') + 1);
}

}  // namespace sp::bus_internal
