// Standard base64 (RFC 4648 section 4, with padding), for binary data
// carried inside JSON messages. Decoding rejects anything malformed.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

std::string EncodeBase64(std::string_view data);
Result<std::string> DecodeBase64(std::string_view text);

}  // namespace sp
