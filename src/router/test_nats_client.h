// Test-only helpers (header-only, used by the router tests): the JetStream
// calls they make through a TestClient (auth/test_nats_client.h, shared with
// the auth tests): add a stream, publish to it, count its messages.
// Thread-safe as cnats is.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <string>

#include "auth/test_nats_client.h"

namespace sp::testing {

// Adds a file-backed stream named `name` over `subject`.
inline natsStatus AddStream(jsCtx* js, const char* name, const char* subject) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name;
  const char* subjects[] = {subject};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&info, js, &cfg, nullptr, &code);
  if (info) jsStreamInfo_Destroy(info);
  return s;
}

inline natsStatus PublishToStream(jsCtx* js, const char* subject, const std::string& data) {
  jsPubAck* ack = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_Publish(&ack, js, subject, data.data(), static_cast<int>(data.size()), nullptr, &code);
  if (ack) jsPubAck_Destroy(ack);
  return s;
}

// Number of messages in a stream, or -1 if it cannot be read.
inline int64_t StreamMessages(jsCtx* js, const char* name) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  if (js_GetStreamInfo(&info, js, name, nullptr, &code) != NATS_OK || !info) return -1;
  auto msgs = static_cast<int64_t>(info->State.Msgs);
  jsStreamInfo_Destroy(info);
  return msgs;
}

}  // namespace sp::testing
