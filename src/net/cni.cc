// CNI runtime side: configuration generation, plugin execution, result and error parsing, attachment records.
#include "net/cni.h"

#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "net/link.h"
#include "net/netns.h"
#include "util/fs.h"
#include "util/subprocess.h"

namespace sp {
namespace {

using nlohmann::json;

constexpr const char* kCniVersion = "1.0.0";  // highest version the Debian 1.1.1 plugins speak
constexpr const char* kLoopbackIfname = "lo";
constexpr const char* kEthIfname = "eth0";
constexpr const char* kPortsKey = "ports";  // in the attachment record, beside the results keyed by ifname
constexpr size_t kMaxContainerIdLength = 200;

// Plugins that together set up one interface; each gets the previous one's result as prevResult.
struct PluginChain {
  std::string ifname;
  std::vector<json> plugins;  // each with "type" and its own fields; cniVersion and name are added
};

// One plugin execution.
struct Invocation {
  std::string command;  // ADD or DEL
  std::string container_id;
  std::string netns;  // may be empty for DEL
  std::string ifname;
};

// Serialises without throwing: bytes that are not UTF-8 (a path, say) are replaced, not an exception.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// CNI: "Must start with a alphanumeric character, optionally followed by alphanumerics, '_', '.', '-'".
Status ValidateCniName(std::string_view what, std::string_view value) {
  bool ok = !value.empty() && value.size() <= kMaxContainerIdLength && IsAlnum(value.front());
  for (char c : value) ok = ok && (IsAlnum(c) || c == '_' || c == '.' || c == '-');
  if (ok) return Status::Ok();
  return Status::InvalidArgument("invalid " + std::string(what) + " \"" + std::string(value) +
                                 "\": must start with a letter or digit and contain only letters, digits, "
                                 "'_', '.' and '-' (at most 200 characters)");
}

Status ValidateAbsoluteDir(std::string_view what, const std::string& dir) {
  if (dir.empty() || dir.front() != '/')
    return Status::InvalidArgument(std::string(what) + " must be an absolute path, got \"" + dir + "\"");
  return Status::Ok();
}

Result<Ipv4Subnet> ValidateOptions(const BridgeNetworkOptions& o) {
  SP_RETURN_IF_ERROR(ValidateCniName("network name", o.network_name));
  SP_RETURN_IF_ERROR(ValidateLinkName(o.bridge).Annotate("bridge"));
  SP_RETURN_IF_ERROR(ValidateAbsoluteDir("ipam_dir (host-local data directory)", o.ipam_dir));
  SP_RETURN_IF_ERROR(ValidateAbsoluteDir("CNI plugin directory", o.plugin_dir));
  auto subnet = ParseIpv4Subnet(o.subnet);
  if (!subnet) return Err(subnet.error().Annotate("network subnet"));
  if (subnet->prefix < 8 || subnet->prefix > 30)
    return Err(Status::InvalidArgument("network subnet " + o.subnet +
                                       ": prefix length must be between 8 and 30 (e.g. 10.88.0.0/16)"));
  return *subnet;
}

PluginChain LoopbackChain() { return {kLoopbackIfname, {json{{"type", "loopback"}}}}; }


// snat: the host's own connections (to 127.0.0.1 or its addresses) and hairpin traffic are masqueraded,
// so they reach the container; portmap then also sets route_localnet on the bridge for 127.0.0.1.
json PortmapPlugin(const json& port_mappings) {
  return {{"type", "portmap"},
          {"capabilities", {{"portMappings", true}}},
          {"snat", true},
          {"runtimeConfig", {{"portMappings", port_mappings}}}};
}

// port_mappings: the array recorded for the container; portmap joins the chain only when it is non-empty.
PluginChain EthChain(const BridgeNetworkOptions& o, const Ipv4Subnet& subnet, const json& port_mappings) {
  json range =
      json::array({json{{"subnet", subnet.ToString()}, {"gateway", FormatIpv4(subnet.FirstHost())}}});
  json ipam = {{"type", "host-local"},
               {"ranges", json::array({range})},
               {"routes", json::array({json{{"dst", "0.0.0.0/0"}}})},
               {"dataDir", o.ipam_dir}};
  json bridge = {{"type", "bridge"}, {"bridge", o.bridge},  {"isGateway", true},
                 {"ipMasq", false},  {"hairpinMode", true}, {"ipam", std::move(ipam)}};
  PluginChain chain{kEthIfname, {std::move(bridge)}};
  if (port_mappings.is_array() && !port_mappings.empty())
    chain.plugins.push_back(PortmapPlugin(port_mappings));
  return chain;
}

// In ADD order; DEL walks them backwards.
std::vector<PluginChain> Chains(const BridgeNetworkOptions& o, const Ipv4Subnet& subnet,
                                const json& port_mappings) {
  return {LoopbackChain(), EthChain(o, subnet, port_mappings)};
}

std::string StringField(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string TrimmedText(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// Well-known CNI error codes mapped onto ours; anything else is the plugin's environment failing.
Code CodeForCniError(int cni_code) {
  switch (cni_code) {
    case 1:  // incompatible CNI version
      return Code::kFailedPrecondition;
    case 2:  // unsupported field in network configuration
    case 4:  // invalid necessary environment variables
    case 7:  // invalid network config
      return Code::kInvalidArgument;
    case 3:  // container unknown or does not exist
      return Code::kNotFound;
    case 11:  // try again later
      return Code::kUnavailable;
    default:
      return Code::kInternal;
  }
}

// A failed plugin prints {"code": N, "msg": "...", "details": "..."} on stdout; fall back to its stderr.
Status PluginFailure(const std::string& type, const Invocation& inv, const CommandResult& r) {
  std::string what = "CNI plugin " + type + " " + inv.command + " failed";
  json err = json::parse(r.out, nullptr, false);
  std::string msg = StringField(err, "msg");
  if (!msg.empty()) {
    std::string details = StringField(err, "details");
    if (!details.empty()) msg += " (" + details + ")";
    int code = err.contains("code") && err["code"].is_number_integer() ? err["code"].get<int>() : 0;
    return Status(CodeForCniError(code), what + ": " + msg);
  }
  std::string text = TrimmedText(r.err.empty() ? r.out : r.err);
  if (text.empty())
    text = r.signal ? "killed by signal " + std::to_string(r.signal)
                    : "exit status " + std::to_string(r.exit_code) + ", no message";
  return Status::Internal(what + ": " + text);
}

Result<json> InvokePlugin(const BridgeNetworkOptions& o, const json& conf, const Invocation& inv) {
  std::string type = StringField(conf, "type");
  std::string path = JoinPath(o.plugin_dir, type);
  if (::access(path.c_str(), X_OK) != 0)
    return Err(Status::NotFound("CNI plugin " + type + " not found at " + path +
                                " (install containernetworking-plugins or set the plugin directory)"));
  CommandOptions cmd;
  cmd.input = Dump(conf);
  cmd.timeout = o.plugin_timeout;
  cmd.env = {{"CNI_COMMAND", inv.command},
             {"CNI_CONTAINERID", inv.container_id},
             {"CNI_NETNS", inv.netns},
             {"CNI_IFNAME", inv.ifname},
             {"CNI_ARGS", ""},
             {"CNI_PATH", o.plugin_dir}};
  SP_ASSIGN_OR_RETURN(CommandResult r, RunCommand({path}, cmd));
  if (!r.ok()) return Err(PluginFailure(type, inv, r));
  if (inv.command != "ADD") return json();
  json result = json::parse(r.out, nullptr, false);
  if (!result.is_object())
    return Err(Status::Internal("CNI plugin " + type + " ADD printed no JSON result object: \"" +
                                TrimmedText(r.out.substr(0, 200)) + "\""));
  return result;
}

json ConfigFor(const BridgeNetworkOptions& o, json plugin, const json& prev_result) {
  plugin["cniVersion"] = kCniVersion;
  plugin["name"] = o.network_name;
  if (!prev_result.is_null()) plugin["prevResult"] = prev_result;
  return plugin;
}

Result<json> AddChain(const BridgeNetworkOptions& o, const PluginChain& chain, const Invocation& inv) {
  json prev;
  for (const json& plugin : chain.plugins) {
    SP_ASSIGN_OR_RETURN(prev, InvokePlugin(o, ConfigFor(o, plugin, prev), inv));
  }
  return prev;
}

// Runs every plugin's DEL (last first) even when one fails, so as much as possible is released; returns
// the first failure.
Status DelChain(const BridgeNetworkOptions& o, const PluginChain& chain, const Invocation& inv,
                const json& prev_result) {
  Status first;
  for (auto it = chain.plugins.rbegin(); it != chain.plugins.rend(); ++it) {
    auto r = InvokePlugin(o, ConfigFor(o, *it, prev_result), inv);
    if (!r && first.ok()) first = r.error();
  }
  return first;
}

bool PointsAtSandbox(const json& ip, const json& interfaces) {
  if (!ip.contains("interface") || !ip["interface"].is_number_unsigned() || !interfaces.is_array())
    return false;
  size_t idx = ip["interface"].get<size_t>();
  if (idx >= interfaces.size()) return false;
  const json& itf = interfaces[idx];
  return !StringField(itf, "sandbox").empty() || StringField(itf, "name") == kEthIfname;
}

// The IPv4 address of the container interface in a bridge ADD result, checked against the subnet.
Result<Attachment> AttachmentFromResult(const json& result, const Ipv4Subnet& subnet) {
  const json ips = result.is_object() && result.contains("ips") ? result["ips"] : json();
  if (!ips.is_array()) return Err(Status::Internal("CNI bridge result has no \"ips\" list: " + Dump(result)));
  const json interfaces = result.contains("interfaces") ? result["interfaces"] : json();
  std::optional<json> chosen;
  for (const json& ip : ips) {
    if (!ParseIpv4InterfaceAddress(StringField(ip, "address"))) continue;  // IPv6 or malformed
    if (!chosen || PointsAtSandbox(ip, interfaces)) chosen = ip;
    if (PointsAtSandbox(ip, interfaces)) break;
  }
  if (!chosen) return Err(Status::Internal("CNI bridge result has no IPv4 address: " + Dump(result)));
  uint32_t address = *ParseIpv4InterfaceAddress(StringField(*chosen, "address"));
  if (!subnet.Contains(address))
    return Err(Status::Internal("CNI bridge returned address " + FormatIpv4(address) + " outside subnet " +
                                subnet.ToString()));
  auto gateway = ParseIpv4(StringField(*chosen, "gateway"));
  return Attachment{FormatIpv4(address), FormatIpv4(gateway ? *gateway : subnet.FirstHost()), {}};
}

Result<json> ReadRecord(const std::string& path) {
  SP_ASSIGN_OR_RETURN(std::string text, ReadFileCapped(path, 1 << 20));
  json cached = json::parse(text, nullptr, false);
  if (!cached.is_object()) return Err(Status::Internal("corrupt CNI result cache " + path));
  return cached;
}

Status WriteRecord(const std::string& path, const json& record) {
  SP_RETURN_IF_ERROR(MakeDirs(path.substr(0, path.rfind('/')), 0700));
  return WriteFileAtomic(path, Dump(record), 0600);
}

// The recorded port mappings exactly as portmap got them on ADD (an empty array if there are none).
json RecordedPortMappings(const Result<json>& record) {
  if (!record || !record->contains(kPortsKey) || !(*record)[kPortsKey].is_array()) return json::array();
  return (*record)[kPortsKey];
}

Result<std::vector<PublishedPort>> PortsFromRecord(const json& record, const std::string& path) {
  auto ports = PortMappingsFromJson(RecordedPortMappings(record));
  if (!ports) return Err(Status::Internal("corrupt CNI result cache " + path + ": " + ports.error().message()));
  return ports;
}

}  // namespace

BridgeNetwork::BridgeNetwork(BridgeNetworkOptions opts) : opts_(std::move(opts)) {
  auto subnet = ValidateOptions(opts_);
  if (subnet) {
    subnet_ = *subnet;
  } else {
    valid_ = subnet.error().Annotate("network " + opts_.network_name);
  }
}

Status BridgeNetwork::Validate() const { return valid_; }

std::string BridgeNetwork::gateway() const { return valid_.ok() ? FormatIpv4(subnet_.FirstHost()) : ""; }

std::string BridgeNetwork::CachePath(const std::string& container_id) const {
  return JoinPath(opts_.ipam_dir, ".results/" + opts_.network_name + "/" + container_id + ".json");
}

Status BridgeNetwork::CheckCall(const std::string& container_id) const {
  SP_RETURN_IF_ERROR(valid_);
  return ValidateCniName("container id", container_id);
}

Result<Attachment> BridgeNetwork::Attach(const std::string& container_id, const std::string& netns_path,
                                         const std::vector<PublishedPort>& ports) {
  SP_RETURN_IF_ERROR(CheckCall(container_id));
  std::string context = "attach " + container_id + " to network " + opts_.network_name;
  SP_RETURN_IF_ERROR(ValidatePorts(ports, /*require_host_port=*/true).Annotate(context));
  std::string cache = CachePath(container_id);
  // Checked before any plugin runs: cleaning up after a refused second ADD would tear down the first.
  if (PathExists(cache))
    return Err(Status::AlreadyExists(context + ": already attached, or an earlier attach did not finish "
                                               "(Detach it first)"));
  // The ports are recorded first, so that a Detach (also after a crash during ADD) can run portmap DEL.
  json record = {{kPortsKey, PortMappingsJson(ports)}};
  Status saved = WriteRecord(cache, record);
  if (!saved.ok()) return Err(saved.Annotate(context + ": save CNI result"));
  auto fail = [&](const Status& st) {
    (void)Detach(container_id, netns_path);  // best effort: release what the failed ADD left behind
    return Err(st.Annotate(context));
  };
  for (const PluginChain& chain : Chains(opts_, subnet_, record[kPortsKey])) {
    auto r = AddChain(opts_, chain, {"ADD", container_id, netns_path, chain.ifname});
    if (!r) return fail(r.error());
    record[chain.ifname] = std::move(*r);
  }
  auto attachment = AttachmentFromResult(record[kEthIfname], subnet_);
  if (!attachment) return fail(attachment.error());
  saved = WriteRecord(cache, record);
  if (!saved.ok()) return fail(saved.Annotate("save CNI result"));
  attachment->ports = ports;
  return attachment;
}

Status BridgeNetwork::Detach(const std::string& container_id, const std::string& netns_path) {
  SP_RETURN_IF_ERROR(CheckCall(container_id));
  // A path that is no longer a namespace (deleted, or a leftover plain file) is passed as "no namespace".
  std::string netns = IsNetnsPath(netns_path) ? netns_path : "";
  std::string cache = CachePath(container_id);
  if (!PathExists(cache)) return Status::Ok();  // never attached, or already detached (see cni.h)
  auto cached = ReadRecord(cache);
  std::vector<PluginChain> chains = Chains(opts_, subnet_, RecordedPortMappings(cached));
  Status first;
  for (auto it = chains.rbegin(); it != chains.rend(); ++it) {
    json prev = cached && cached->contains(it->ifname) ? (*cached)[it->ifname] : json();
    Status st = DelChain(opts_, *it, {"DEL", container_id, netns, it->ifname}, prev);
    if (first.ok()) first = st;
  }
  if (first.ok() && ::unlink(cache.c_str()) != 0 && errno != ENOENT)
    first = Status::FromErrno("remove CNI result cache " + cache, errno);
  return first.Annotate("detach " + container_id + " from network " + opts_.network_name);
}

Result<Attachment> BridgeNetwork::Lookup(const std::string& container_id) const {
  SP_RETURN_IF_ERROR(CheckCall(container_id));
  std::string cache = CachePath(container_id);
  if (!PathExists(cache))
    return Err(
        Status::NotFound("container " + container_id + " is not attached to network " + opts_.network_name));
  SP_ASSIGN_OR_RETURN(json cached, ReadRecord(cache));
  if (!cached.contains(kEthIfname))
    return Err(Status::FailedPrecondition("attaching container " + container_id + " to network " +
                                          opts_.network_name + " did not finish (Detach it)"));
  SP_ASSIGN_OR_RETURN(Attachment attachment, AttachmentFromResult(cached[kEthIfname], subnet_));
  SP_ASSIGN_OR_RETURN(attachment.ports, PortsFromRecord(cached, cache));
  return attachment;
}

}  // namespace sp
