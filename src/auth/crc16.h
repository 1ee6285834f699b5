// CRC-16/XMODEM (polynomial 0x1021, initial value 0, no reflection).
//
// NKeys append this checksum (little-endian) to the prefix and key bytes so a
// mistyped key is rejected instead of silently naming another identity.
// Pure function, thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace sp {

uint16_t Crc16Xmodem(std::string_view data);

}  // namespace sp
