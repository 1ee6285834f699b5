// Renders the nats-server config text.
#include "router/server_config.h"

#include <cstdio>

namespace sp {

std::string QuoteConfigString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

std::string RenderServerConfig(const ServerConfig& config) {
  std::string out = "# Written by spawnd for its embedded router; rewritten on every start.\n";
  out += "server_name: " + QuoteConfigString(config.server_name) + "\n";
  out += "listen: " + QuoteConfigString(config.listen.ToString()) + "\n";
  out += "max_payload: " + std::to_string(config.max_payload) + "\n";
  out += "pid_file: " + QuoteConfigString(config.pid_file) + "\n";
  out += "log_file: " + QuoteConfigString(config.log_file) + "\n";
  out += "logtime: true\n";
  out += "debug: false\n";
  out += "trace: false\n";
  out += "jetstream {\n  store_dir: " + QuoteConfigString(config.store_dir) + "\n}\n";
  out += config.auth;
  return out;
}

}  // namespace sp
