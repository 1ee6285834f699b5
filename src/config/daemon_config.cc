// Parsing and validation of the daemon configuration, and the embedded default.
//
// Each field is read through FieldReader; the value checks below are small functions that say
// what was expected, so a bad value reads as "spawnd.yml:3:7: key "routerListen": expected ...".
#include "config/daemon_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <optional>

#include "config/service_config.h"  // CheckImageReference
#include "config/yaml_fields.h"
#include "uri/uri.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr int64_t kMaxPoolValue = int64_t{1} << 40;  // keeps MiB -> bytes and share sums in int64
constexpr size_t kMaxUriSegments = 8;

bool IsUriChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-_.~:@=").find(c) != std::string_view::npos;
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::optional<int> ParsePort(std::string_view text, int min) {
  int port = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port < min || port > 65535)
    return std::nullopt;
  return port;
}

bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

bool IsIpv6Literal(std::string_view host) {
  in6_addr addr;
  return ::inet_pton(AF_INET6, std::string(host).c_str(), &addr) == 1;
}

// Splits "host:port" or "[v6]:port" into host (without brackets) and port text.
std::optional<std::pair<std::string, std::string>> SplitHostPort(std::string_view text) {
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    return std::pair{std::string(text.substr(1, close - 1)), std::string(text.substr(close + 2))};
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return std::pair{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

bool IsLoopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr addr;
  if (::inet_pton(AF_INET, host.c_str(), &addr) != 1) return false;
  return (ntohl(addr.s_addr) >> 24) == 127;
}

// One "nats://host[:port]" or "tls://host[:port]".
bool IsRouterUrl(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("nats://")) {
    rest = url.substr(7);
  } else if (url.starts_with("tls://")) {
    rest = url.substr(6);
  } else {
    return false;
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (!rest.empty() && rest[0] == '[') {
    auto split = SplitHostPort(rest);
    return split && IsIpv6Literal(split->first) && ParsePort(split->second, 1);
  }
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return IsHostName(rest);
  return IsHostName(rest.substr(0, colon)) && ParsePort(rest.substr(colon + 1), 1);
}

Result<std::string> CheckRouter(const std::string& text) {
  for (std::string_view url : Split(text, ',')) {
    while (!url.empty() && url.front() == ' ') url.remove_prefix(1);
    while (!url.empty() && url.back() == ' ') url.remove_suffix(1);
    if (!IsRouterUrl(url)) {
      return Err(
          ExpectedGot("a NATS URL such as nats://10.0.0.5:4222 (several may be joined with ',')", text));
    }
  }
  return text;
}

Result<std::string> CheckBaseUri(const std::string& text) {
  SP_RETURN_IF_ERROR(ValidateBaseUri(text));
  return text;
}

Result<std::string> CheckRouterListen(const std::string& text) {
  auto split = SplitHostPort(text);
  if (!split || !IsLoopback(split->first) || !ParsePort(split->second, 0)) {
    return Err(ExpectedGot(
        "a loopback address and port such as 127.0.0.1:4222 (the embedded router only listens on loopback; "
        "port 0 picks a free one)",
        text));
  }
  return text;
}

Result<std::string> CheckAbsolutePath(const std::string& text) {
  if (text.empty() || text[0] != '/') return Err(ExpectedGot("an absolute path", text));
  return text;
}

Result<std::string> CheckRuntime(const std::string& text) {
  if (text == "runc" || text == "crun" || (!text.empty() && text[0] == '/')) return text;
  return Err(ExpectedGot("runc, crun or the absolute path of an OCI runtime binary", text));
}

Result<std::string> CheckRegistry(const std::string& text) {
  bool ok = IsHostName(text);
  if (!ok) {
    auto split = SplitHostPort(text);
    ok = split && (IsHostName(split->first) || IsIpv6Literal(split->first)) && ParsePort(split->second, 1);
  }
  if (!ok) return Err(ExpectedGot("a registry address host or host:port, without http://", text));
  return text;
}

// Linux interface names: 1-15 bytes, no '/', ':' or whitespace, not "." or "..".
Result<std::string> CheckInterfaceName(const std::string& text) {
  bool ok = !text.empty() && text.size() <= 15 && text != "." && text != ".." &&
            std::all_of(text.begin(), text.end(), [](char c) {
              return std::isgraph(static_cast<unsigned char>(c)) && c != '/' && c != ':';
            });
  if (!ok)
    return Err(
        ExpectedGot("a network interface name of 1 to 15 characters without '/', ':' or spaces", text));
  return text;
}

Result<std::string> CheckSubnet(const std::string& text) {
  auto bad = [&] {
    return Err(ExpectedGot("an IPv4 network such as 10.88.0.0/16 with a prefix length from 8 to 28", text));
  };
  size_t slash = text.find('/');
  if (slash == std::string::npos) return bad();
  in_addr addr;
  if (::inet_pton(AF_INET, text.substr(0, slash).c_str(), &addr) != 1) return bad();
  std::optional<int> prefix;
  std::string_view prefix_text = std::string_view(text).substr(slash + 1);
  int value = 0;
  auto [end, ec] = std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), value);
  if (ec == std::errc() && end == prefix_text.data() + prefix_text.size() && value >= 8 && value <= 28)
    prefix = value;
  if (!prefix) return bad();
  uint32_t host_mask = (uint32_t{1} << (32 - *prefix)) - 1;
  if ((ntohl(addr.s_addr) & host_mask) != 0) {
    uint32_t network = htonl(ntohl(addr.s_addr) & ~host_mask);
    char buf[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &network, buf, sizeof buf);
    return Err(ExpectedGot("the network address, with the host bits zero (did you mean " + std::string(buf) +
                               "/" + std::to_string(*prefix) + "?)",
                           text));
  }
  return text;
}

void ReadPools(FieldReader& r, DaemonConfig& c) {
  c.cpu_shares = r.Int("cpuShares", Need::kRequired, 0, {2, kMaxPoolValue, "CPU shares, 1024 = one core"});
  c.memory_mib = r.Int("memory", Need::kRequired, 0, {16, kMaxPoolValue, "MiB"});
}

void ReadRouter(FieldReader& r, DaemonConfig& c) {
  const Key router("router", "bw2Agent");
  c.router = r.Parsed<std::string>(router, Need::kOptional, "", CheckRouter);
  c.router_listen =
      r.Parsed<std::string>("routerListen", Need::kOptional, c.router_listen, CheckRouterListen);
  if (!c.router.empty() && c.entity.empty()) {
    r.Fail(
        router,
        "joining an existing router needs this daemon's credentials: add \"entity: /path/to/daemon.creds\"");
  }
}

void ReadContainers(FieldReader& r, DaemonConfig& c) {
  c.enable_host_networking = r.Bool("enableHostNetworking", false);
  c.enable_device_mapping = r.Bool("enableDeviceMapping", false);
  c.runtime = r.Parsed<std::string>("runtime", Need::kOptional, c.runtime, CheckRuntime);
  c.default_image = r.Parsed<std::string>("defaultImage", Need::kOptional, "", CheckImageReference);
  c.insecure_registries = r.List<std::string>("insecureRegistries", Need::kOptional, CheckRegistry);
  c.registry_auth = r.Parsed<std::string>("registryAuth", Need::kOptional, "", CheckAbsolutePath);
  c.allow_local_sources = r.Bool("allowLocalSources", false);
  c.bridge_name = r.Parsed<std::string>("bridgeName", Need::kOptional, c.bridge_name, CheckInterfaceName);
  c.bridge_subnet = r.Parsed<std::string>("bridgeSubnet", Need::kOptional, c.bridge_subnet, CheckSubnet);
}

void ReadHousekeeping(FieldReader& r, DaemonConfig& c) {
  c.state_dir = r.Parsed<std::string>("stateDir", Need::kOptional, c.state_dir, CheckAbsolutePath);
  c.heartbeat_interval = r.Duration("heartbeatInterval", Need::kOptional, c.heartbeat_interval, Millis(100));
  c.log_max_bytes = r.Int("logMaxBytes", Need::kOptional, c.log_max_bytes, {4096, kMaxPoolValue, "bytes"});
  c.log_max_files = r.Int("logMaxFiles", Need::kOptional, c.log_max_files, {1, 10000, "files"});
}

Result<DaemonConfig> ParseUnguarded(std::string_view yaml, std::string_view file_name) {
  SP_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlDocument(yaml, file_name));
  FieldReader r(root, std::string(file_name));
  DaemonConfig c;
  c.path = r.Parsed<std::string>("path", Need::kRequired, "", CheckBaseUri);
  c.entity = r.String({"entity", "bw2Entity"}, Need::kOptional);
  c.signer = r.String("signer", Need::kOptional);
  ReadPools(r, c);
  ReadRouter(r, c);
  ReadContainers(r, c);
  ReadHousekeeping(r, c);
  SP_RETURN_IF_ERROR(r.Finish());
  return c;
}

}  // namespace

std::string DaemonConfig::alias() const {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status ValidateBaseUri(std::string_view uri) {
  Result<std::vector<std::string>> segments = ParseUri(uri);
  if (!segments) return segments.error();
  if (segments->size() > kMaxUriSegments) {
    return Status::InvalidArgument("base URI " + QuoteForMessage(uri) + " has " +
                                   std::to_string(segments->size()) + " segments; at most 8 are allowed");
  }
  if (uri[0] == '_') {
    return Status::InvalidArgument("base URI " + QuoteForMessage(uri) +
                                   " must not start with '_' (reserved for the router's own subjects)");
  }
  return Status::Ok();
}

Result<DaemonConfig> ParseDaemonConfig(std::string_view yaml, std::string_view file_name) {
  try {
    return ParseUnguarded(yaml, file_name);
  } catch (
      const std::exception& e) {  // yaml-cpp or allocation; LoadYamlDocument already catches parse errors
    return Err(Status::InvalidArgument(std::string(file_name) + ": cannot read configuration: " + e.what()));
  }
}

Result<DaemonConfig> LoadDaemonConfig(const std::string& path) {
  Result<std::string> text = ReadFileCapped(path, kMaxConfigBytes);
  if (!text) return Err(text.error().Annotate("daemon configuration"));
  SP_ASSIGN_OR_RETURN(DaemonConfig config, ParseDaemonConfig(*text, path));
  size_t slash = path.rfind('/');
  for (std::string* file : {&config.entity, &config.signer}) {  // relative to the config file
    if (!file->empty() && (*file)[0] != '/' && slash != std::string::npos)
      *file = JoinPath(path.substr(0, slash + 1), *file);
  }
  return config;
}

DaemonConfig DefaultDaemonConfig(std::string_view hostname, int cpus, int64_t mem_total_mib) {
  std::string alias;
  for (char c : hostname) {
    if (IsUriChar(c)) alias += c;
  }
  if (alias.size() > 64) alias.resize(64);
  if (alias.empty()) alias = "host";
  DaemonConfig c;
  c.path = "local/spawnpoint/" + alias;
  c.cpu_shares = 1024 * int64_t{std::max(cpus, 1)};
  c.memory_mib = std::max<int64_t>(mem_total_mib * 9 / 10, 16);
  return c;
}

}  // namespace sp
