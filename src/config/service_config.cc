// Parsing and validation of deploy.yaml.
//
// Fields are read in groups (resources, program, files, restarts, access); each value check is a
// small function that says what was expected, so errors read as
// "deploy.yaml:7:5: key "volumes" item 2: expected a volume name ..., got "a b"".
#include "config/service_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "config/yaml_fields.h"
#include "util/fs.h"

namespace sp {
namespace {

constexpr int64_t kMaxReservation = int64_t{1} << 40;  // keeps MiB -> bytes in int64
constexpr std::string_view kNameChars = "_.-";

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || kNameChars.find(c) != std::string_view::npos;
}

// [A-Za-z0-9][A-Za-z0-9_.-]*
bool IsPlainName(std::string_view name) {
  return !name.empty() && std::isalnum(static_cast<unsigned char>(name[0])) &&
         std::all_of(name.begin(), name.end(), IsNameChar);
}

Result<std::string> CheckName(const std::string& text) {
  SP_RETURN_IF_ERROR(ValidateServiceName(text));
  return text;
}

Result<std::string> CheckNonEmpty(const std::string& text) {
  if (text.empty()) return Err(ExpectedGot("a non-empty path", text));
  return text;
}

Result<std::string> CheckSource(const std::string& text) {
  for (std::string_view scheme : {"git+https://", "git+file://"}) {
    if (text.starts_with(scheme) && text.size() > scheme.size()) return text;
  }
  return Err(ExpectedGot("a git repository URL starting with git+https:// (or git+file:// where the daemon allows it)", text));
}

Result<std::string> CheckDevice(const std::string& text) {
  bool ok = text.starts_with("/dev/") && text.size() > 5 && text.find("/../") == std::string::npos &&
            !text.ends_with("/..");
  if (!ok) return Err(ExpectedGot("the absolute path of a device under /dev, such as /dev/ttyUSB0", text));
  return text;
}

Result<std::string> CheckEnvName(const std::string& text) {
  bool ok = !text.empty() && !std::isdigit(static_cast<unsigned char>(text[0])) &&
            std::all_of(text.begin(), text.end(),
                        [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
  if (!ok)
    return Err(ExpectedGot("environment variable names of letters, digits and '_', not starting with a digit",
                           text));
  return text;
}

// Volume names, each listed once.
FieldReader::Parser<std::string> VolumeChecker() {
  auto seen = std::make_shared<std::set<std::string>>();
  return [seen](const std::string& text) -> Result<std::string> {
    if (!IsPlainName(text) || text.size() > 63 || text == "spawnpoint") {
      return Err(ExpectedGot(
          "a volume name of letters, digits, '_', '.' and '-' (up to 63, starting with a letter or digit; "
          "\"spawnpoint\" is reserved)",
          text));
    }
    if (!seen->insert(text).second)
      return Err(Status::InvalidArgument("volume " + QuoteForMessage(text) + " is listed twice"));
    return text;
  };
}

// Port mappings, each host port (per protocol) published once.
FieldReader::Parser<PortMapping> PortChecker() {
  auto seen = std::make_shared<std::set<std::pair<int, std::string>>>();
  return [seen](const std::string& text) -> Result<PortMapping> {
    SP_ASSIGN_OR_RETURN(PortMapping port, ParsePortMapping(text));
    if (port.host_port != 0 && !seen->insert({port.host_port, port.protocol}).second) {
      return Err(Status::InvalidArgument("host port " + std::to_string(port.host_port) + "/" + port.protocol +
                                         " is published twice"));
    }
    return port;
  };
}

std::optional<int> ParsePortNumber(std::string_view text) {
  int port = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) return std::nullopt;
  return port;
}

void ReadResources(FieldReader& r, ServiceConfig& c) {
  c.cpu_shares = r.Int("cpuShares", Need::kRequired, 0, {2, kMaxReservation, "CPU shares, 1024 = one core"});
  c.memory_mib = r.Int("memory", Need::kRequired, 0, {4, kMaxReservation, "MiB"});
}

Result<std::string> CheckPullPolicy(const std::string& text) {
  if (text == "always" || text == "missing" || text == "never") return text;
  return Err(ExpectedGot("always, missing or never", text));
}

void ReadProgram(FieldReader& r, ServiceConfig& c) {
  c.image = r.Parsed<std::string>("image", Need::kOptional, "", CheckImageReference);
  c.pull_policy = r.Parsed<std::string>("pullPolicy", Need::kOptional, "", CheckPullPolicy);
  // An image gives its own command, so `run` is required only with `image: host`. Without `image`
  // the daemon's defaultImage decides; a daemon without one refuses a service that has no `run`.
  bool from_image = c.image != "host";
  bool has_run = r.Has("run");
  c.run = r.StringList("run", from_image && !r.Present("run") ? Need::kOptional : Need::kRequired);
  if (has_run && r.ok() && (c.run.empty() || c.run[0].empty())) {
    r.Fail("run",
           "expected the program and its arguments, e.g. [python3, main.py], with a non-empty first item");
  }
  c.source = r.Parsed<std::string>("source", Need::kOptional, "", CheckSource);
  c.build = r.StringList("build", Need::kOptional);
  c.env = r.StringMap("env", Need::kOptional, CheckEnvName);
}

void ReadFiles(FieldReader& r, ServiceConfig& c) {
  c.entity = r.Parsed<std::string>({"entity", "bw2Entity"}, Need::kOptional, "", CheckNonEmpty);
  c.included_files = r.List<std::string>("includedFiles", Need::kOptional, CheckNonEmpty);
  c.included_directories = r.List<std::string>("includedDirectories", Need::kOptional, CheckNonEmpty);
  c.volumes = r.List<std::string>("volumes", Need::kOptional, VolumeChecker());
}

void ReadRestarts(FieldReader& r, ServiceConfig& c) {
  c.auto_restart = r.Bool("autoRestart", false);
  c.stop_timeout = r.Duration("stopTimeout", Need::kOptional, c.stop_timeout);
  FieldReader& policy = r.Child("restartPolicy", Need::kOptional);
  RestartPolicy& p = c.restart_policy;
  p.initial_delay = policy.Duration("initialDelay", Need::kOptional, p.initial_delay, Millis(100));
  p.max_delay = policy.Duration("maxDelay", Need::kOptional, p.max_delay, Millis(100));
  p.stable_after = policy.Duration("stableAfter", Need::kOptional, p.stable_after, Millis(1000));
  if (policy.ok() && p.initial_delay > p.max_delay) {
    std::string message = "initialDelay (" + FormatDuration(p.initial_delay) +
                          ") must not exceed maxDelay (" + FormatDuration(p.max_delay) + ")";
    policy.Fail(policy.Has("maxDelay") ? "maxDelay" : "initialDelay", message);
  }
}

void ReadAccess(FieldReader& r, ServiceConfig& c) {
  c.use_host_net = r.Bool("useHostNet", false);
  c.devices = r.List<std::string>("devices", Need::kOptional, CheckDevice);
  c.ports = r.List<PortMapping>("ports", Need::kOptional, PortChecker());
  c.publish_exposed_ports = r.Bool("publishExposedPorts", false);
}

Status ChooseName(ServiceConfig& c, std::string_view file_name, std::string_view name_override) {
  if (!name_override.empty()) {
    Status valid = ValidateServiceName(name_override);
    if (!valid.ok()) return valid.Annotate("-n");
    c.name = std::string(name_override);
  }
  if (c.name.empty()) {
    return Status::InvalidArgument(
        std::string(file_name) +
        ": the service has no name: add \"name: <name>\" to the file or pass -n <name>");
  }
  return Status::Ok();
}

Result<ServiceConfig> ParseUnguarded(std::string_view yaml, std::string_view file_name,
                                     std::string_view name_override) {
  SP_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlDocument(yaml, file_name));
  FieldReader r(root, std::string(file_name));
  ServiceConfig c;
  c.name = r.Parsed<std::string>("name", Need::kOptional, "", CheckName);
  ReadResources(r, c);
  ReadProgram(r, c);
  ReadFiles(r, c);
  ReadRestarts(r, c);
  ReadAccess(r, c);
  SP_RETURN_IF_ERROR(r.Finish());
  SP_RETURN_IF_ERROR(ChooseName(c, file_name, name_override));
  return c;
}

}  // namespace

Status ValidateServiceName(std::string_view name) {
  if (!IsPlainName(name) || name.size() > 63) {
    return Status::InvalidArgument(
        "invalid service name " + QuoteForMessage(name) +
        ": use 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit");
  }
  if (name == "daemon") return Status::InvalidArgument("service name \"daemon\" is reserved; choose another");
  return Status::Ok();
}

Result<std::string> CheckImageReference(const std::string& text) {
  bool ok = !text.empty() && std::none_of(text.begin(), text.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c));
  });
  if (!ok) return Err(ExpectedGot("an image reference such as docker.io/library/alpine:3.18, or host", text));
  return text;
}

Result<PortMapping> ParsePortMapping(std::string_view text) {
  auto bad = [&] {
    return Err(ExpectedGot(
        "HOST:CONTAINER or CONTAINER with ports from 1 to 65535, optionally ending in /tcp or /udp", text));
  };
  PortMapping port;
  std::string_view rest = text;
  size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    std::string_view protocol = rest.substr(slash + 1);
    if (protocol != "tcp" && protocol != "udp") return bad();
    port.protocol = std::string(protocol);
    rest = rest.substr(0, slash);
  }
  size_t colon = rest.find(':');
  if (colon != std::string_view::npos) {
    std::optional<int> host = ParsePortNumber(rest.substr(0, colon));
    if (!host) return bad();
    port.host_port = *host;
    rest = rest.substr(colon + 1);
  }
  std::optional<int> container = ParsePortNumber(rest);
  if (!container) return bad();
  port.container_port = *container;
  return port;
}

Result<ServiceConfig> ParseServiceConfig(std::string_view yaml, std::string_view file_name,
                                         std::string_view name_override) {
  try {
    return ParseUnguarded(yaml, file_name, name_override);
  } catch (
      const std::exception& e) {  // yaml-cpp or allocation; LoadYamlDocument already catches parse errors
    return Err(Status::InvalidArgument(std::string(file_name) + ": cannot read configuration: " + e.what()));
  }
}

Result<ServiceConfig> LoadServiceConfig(const std::string& path, std::string_view name_override) {
  Result<std::string> text = ReadFileCapped(path, kMaxConfigBytes);
  if (!text) return Err(text.error().Annotate("service configuration"));
  return ParseServiceConfig(*text, path, name_override);
}

}  // namespace sp
