// Base32 (RFC 4648, standard alphabet A-Z 2-7) without padding.
//
// NKeys spell public keys and seeds in this encoding. Decoding is strict: it
// accepts only upper-case alphabet characters, no '=' padding, and requires
// the unused low bits of the last character to be zero, so every byte string
// has exactly one spelling. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

std::string Base32Encode(std::string_view data);
// InvalidArgument on a character outside the alphabet, an impossible length
// or non-zero trailing bits.
Result<std::string> Base32Decode(std::string_view text);

}  // namespace sp
