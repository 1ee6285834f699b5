// Image reference parsing and normalisation (see reference.h).
//
// The grammar is checked by hand, one small function per production of the distribution
// specification, so an error can say exactly which part failed instead of "does not match".
#include "registry/reference.h"

#include <cctype>

#include "registry/digest.h"

namespace sp {
namespace {

constexpr std::string_view kDockerHub = "docker.io";
constexpr std::string_view kDockerHubHost = "registry-1.docker.io";
constexpr size_t kMaxNameLength = 255;  // registry + "/" + repository, as the distribution spec limits it
constexpr size_t kMaxTagLength = 128;
constexpr size_t kMaxPathLength = 4096;
constexpr size_t kMaxLayoutTagLength = 255;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsWordChar(char c) { return IsAlnum(c) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Quotes user input for an error message, cut short and with control characters made visible.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 200)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  if (s.size() > 200) out += "...";
  return out + "\"";
}

Status Invalid(std::string_view text, const std::string& why) {
  return Status::InvalidArgument("image reference " + Quote(text) + ": " + why);
}

// A separator between alphanumeric runs of a path component: "." | "_" | "__" | "-"+.
bool IsSeparator(std::string_view sep) {
  if (sep == "." || sep == "_" || sep == "__") return true;
  if (sep.empty()) return false;
  for (char c : sep) {
    if (c != '-') return false;
  }
  return true;
}

// path-component := alpha-numeric (separator alpha-numeric)*
Status ValidatePathComponent(std::string_view comp) {
  if (comp.empty())
    return Status::InvalidArgument("empty path component (\"//\", or a leading or trailing \"/\")");
  for (char c : comp) {
    if (c >= 'A' && c <= 'Z')
      return Status::InvalidArgument("repository component " + Quote(comp) + " must be lower case");
  }
  size_t i = 0;
  while (i < comp.size()) {
    size_t run = i;
    while (i < comp.size() && IsLowerAlnum(comp[i])) ++i;
    if (i == run)
      return Status::InvalidArgument(
          "repository component " + Quote(comp) +
          ": must start and end with a lower-case letter or digit, with only \".\", "
          "\"_\", \"__\" or dashes between them");
    size_t sep = i;
    while (i < comp.size() && !IsLowerAlnum(comp[i])) ++i;
    if (i == comp.size() && sep != i)
      return Status::InvalidArgument("repository component " + Quote(comp) +
                                     " must end with a lower-case letter or digit");
    if (sep != i && !IsSeparator(comp.substr(sep, i - sep)))
      return Status::InvalidArgument(
          "repository component " + Quote(comp) + ": " + Quote(comp.substr(sep, i - sep)) +
          " is not allowed (only \".\", \"_\", \"__\" or dashes between letters and digits)");
  }
  return Status::Ok();
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool IsDomainComponent(std::string_view c) {
  if (c.empty() || c.size() > 63 || !IsAlnum(c.front()) || !IsAlnum(c.back())) return false;
  for (char ch : c) {
    if (!IsAlnum(ch) && ch != '-') return false;
  }
  return true;
}

bool IsDomainName(std::string_view host) {
  size_t start = 0;
  for (;;) {
    size_t dot = host.find('.', start);
    if (!IsDomainComponent(host.substr(start, dot == std::string_view::npos ? dot : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsIpv6Literal(std::string_view inner) {
  if (inner.empty() || inner.size() > 45) return false;
  for (char c : inner) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
  }
  return inner.find(':') != std::string_view::npos;
}

Status ValidatePort(std::string_view port) {
  if (port.empty() || port.size() > 5)
    return Status::InvalidArgument("port " + Quote(port) + " is not a number");
  for (char c : port) {
    if (!IsDigit(c)) return Status::InvalidArgument("port " + Quote(port) + " is not a number");
  }
  int value = std::stoi(std::string(port));
  if (value < 1 || value > 65535) return Status::InvalidArgument("port " + Quote(port) + " is out of range");
  return Status::Ok();
}

// Whether the first component of a name is a registry (Docker's rule).
bool LooksLikeRegistry(std::string_view first) {
  if (first == "localhost") return true;
  for (char c : first) {
    if (c == '.' || c == ':' || (c >= 'A' && c <= 'Z')) return true;
  }
  return false;
}

struct NameParts {
  std::string_view name;  // before ":tag" / "@digest"
  std::string_view tag;
  std::string_view digest;
  bool has_tag = false;
};

// Splits "name[:tag][@digest]". The tag's ':' is the last one after the last '/'.
NameParts SplitNameTagDigest(std::string_view text) {
  NameParts p;
  size_t at = text.find('@');
  p.name = text.substr(0, at);
  if (at != std::string_view::npos) p.digest = text.substr(at + 1);
  size_t slash = p.name.rfind('/');
  size_t colon = p.name.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    p.tag = p.name.substr(colon + 1);
    p.has_tag = true;
    p.name = p.name.substr(0, colon);
  }
  return p;
}

Result<ImageReference> ParseRegistryReference(std::string_view text) {
  std::string_view body = text;
  if (body.substr(0, 9) == "docker://") body.remove_prefix(9);
  if (body.empty()) return Err(Invalid(text, "empty"));
  NameParts parts = SplitNameTagDigest(body);
  ImageReference ref;
  ref.transport = "docker";
  if (!parts.digest.empty() || body.find('@') != std::string_view::npos) {
    auto d = Digest::Parse(parts.digest);
    if (!d) return Err(Invalid(text, d.error().message()));
    ref.digest = d->str();
  }
  if (parts.has_tag) {
    if (Status st = ValidateTag(parts.tag); !st.ok()) return Err(Invalid(text, st.message()));
    ref.tag = std::string(parts.tag);
  }
  if (parts.name.empty()) return Err(Invalid(text, "no repository name"));
  size_t slash = parts.name.find('/');
  if (slash != std::string_view::npos && LooksLikeRegistry(parts.name.substr(0, slash))) {
    ref.registry = std::string(parts.name.substr(0, slash));
    ref.repository = std::string(parts.name.substr(slash + 1));
  } else {
    ref.registry = std::string(kDockerHub);
    ref.repository = std::string(parts.name);
  }
  if (ref.registry == "index.docker.io" || ref.registry == kDockerHubHost)
    ref.registry = std::string(kDockerHub);
  if (ref.registry == kDockerHub && ref.repository.find('/') == std::string::npos)
    ref.repository = "library/" + ref.repository;
  if (Status st = ValidateRegistryHost(ref.registry); !st.ok()) return Err(Invalid(text, st.message()));
  if (Status st = ValidateRepository(ref.repository); !st.ok()) return Err(Invalid(text, st.message()));
  if (ref.registry.size() + 1 + ref.repository.size() > kMaxNameLength)
    return Err(Invalid(text, "the name is longer than " + std::to_string(kMaxNameLength) + " characters"));
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

// A tag inside an OCI layout (the org.opencontainers.image.ref.name annotation): letters, digits and
// "-._:@+/", as the image-spec's ref grammar allows.
Status ValidateLayoutTag(std::string_view tag) {
  if (tag.empty()) return Status::InvalidArgument("empty tag after \":\"");
  if (tag.size() > kMaxLayoutTagLength)
    return Status::InvalidArgument("tag is longer than " + std::to_string(kMaxLayoutTagLength) +
                                   " characters");
  for (char c : tag) {
    if (!IsAlnum(c) && std::string_view("-._:@+/").find(c) == std::string_view::npos)
      return Status::InvalidArgument("tag " + Quote(tag) +
                                     " may contain only letters, digits and \"-._:@+/\"");
  }
  return Status::Ok();
}

Result<ImageReference> ParseLocalReference(std::string_view text, std::string_view transport) {
  std::string_view rest = text.substr(transport.size() + 1);
  ImageReference ref;
  ref.transport = std::string(transport);
  size_t at = rest.rfind("@sha256:");
  if (at != std::string_view::npos) {
    auto d = Digest::Parse(rest.substr(at + 1));
    if (!d) return Err(Invalid(text, d.error().message()));
    ref.digest = d->str();
    rest = rest.substr(0, at);
  }
  size_t colon = rest.find(':');
  std::string_view path = rest.substr(0, colon);
  if (colon != std::string_view::npos) {
    std::string_view tag = rest.substr(colon + 1);
    if (Status st = ValidateLayoutTag(tag); !st.ok()) return Err(Invalid(text, st.message()));
    ref.tag = std::string(tag);
  }
  if (path.empty() || path.front() != '/')
    return Err(Invalid(text, "the path must be absolute (" + std::string(transport) + ":/path/to/" +
                                 (transport == "oci" ? "layout" : "image.tar") + ")"));
  if (path.size() > kMaxPathLength || path.find('\0') != std::string_view::npos)
    return Err(Invalid(text, "the path is too long or contains a NUL byte"));
  ref.path = std::string(path);
  return ref;
}

}  // namespace

Status ValidateTag(std::string_view tag) {
  if (tag.empty()) return Status::InvalidArgument("empty tag after \":\"");
  if (tag.size() > kMaxTagLength)
    return Status::InvalidArgument("tag " + Quote(tag) + " is longer than " + std::to_string(kMaxTagLength) +
                                   " characters");
  if (!IsWordChar(tag.front()))
    return Status::InvalidArgument("tag " + Quote(tag) + " must start with a letter, digit or \"_\"");
  for (char c : tag) {
    if (!IsWordChar(c) && c != '.' && c != '-')
      return Status::InvalidArgument("tag " + Quote(tag) +
                                     " may contain only letters, digits, \"_\", \".\" and \"-\"");
  }
  return Status::Ok();
}

Status ValidateRepository(std::string_view repository) {
  if (repository.empty()) return Status::InvalidArgument("empty repository name");
  if (repository.size() > kMaxNameLength)
    return Status::InvalidArgument("repository name is longer than " + std::to_string(kMaxNameLength) +
                                   " characters");
  size_t start = 0;
  for (;;) {
    size_t slash = repository.find('/', start);
    std::string_view comp = repository.substr(start, slash == std::string_view::npos ? slash : slash - start);
    SP_RETURN_IF_ERROR(ValidatePathComponent(comp));
    if (slash == std::string_view::npos) return Status::Ok();
    start = slash + 1;
  }
}

Status ValidateRegistryHost(std::string_view host) {
  if (host.empty()) return Status::InvalidArgument("empty registry name");
  std::string_view name = host;
  std::string_view port;
  if (host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos || !IsIpv6Literal(host.substr(1, close - 1)))
      return Status::InvalidArgument("registry " + Quote(host) + ": malformed IPv6 address");
    name = host.substr(0, close + 1);
    std::string_view after = host.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return Status::InvalidArgument("registry " + Quote(host) + ": junk after \"]\"");
      port = after.substr(1);
      SP_RETURN_IF_ERROR(ValidatePort(port).Annotate("registry " + Quote(host)));
    }
    return Status::Ok();
  }
  size_t colon = host.find(':');
  if (colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
    SP_RETURN_IF_ERROR(ValidatePort(port).Annotate("registry " + Quote(host)));
  }
  if (!IsDomainName(name))
    return Status::InvalidArgument("registry " + Quote(host) +
                                   " is not a host name (letters, digits and dashes, separated by dots)");
  return Status::Ok();
}

std::string ImageReference::String() const {
  std::string out;
  if (transport == "docker" || transport.empty()) {
    out = registry + "/" + repository;
  } else {
    out = transport + ":" + path;
  }
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string ImageReference::RegistryHost() const {
  return registry == kDockerHub ? std::string(kDockerHubHost) : registry;
}

Result<ImageReference> ParseImageReference(std::string_view text) {
  if (text.size() > kMaxPathLength + 512) return Err(Invalid(text, "too long"));
  bool local = text.substr(0, 12) == "oci-archive:" || text.substr(0, 4) == "oci:";
  for (char c : text) {
    // A path may contain spaces; nothing may contain control characters.
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || (c == ' ' && !local))
      return Err(Invalid(text, "contains white space or control characters"));
  }
  if (text.substr(0, 12) == "oci-archive:") return ParseLocalReference(text, "oci-archive");
  if (local) return ParseLocalReference(text, "oci");
  return ParseRegistryReference(text);
}

}  // namespace sp
