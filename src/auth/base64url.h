// Base64url (RFC 4648 section 5, alphabet A-Z a-z 0-9 - _) without padding,
// the encoding of the three parts of a JWT.
//
// Decoding rejects '=' padding, characters outside the alphabet, impossible
// lengths and non-zero trailing bits. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

std::string Base64UrlEncode(std::string_view data);
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace sp
