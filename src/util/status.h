// The error type lives in the public headers (libspawnclient returns it);
// internal code includes it through this path.
#pragma once
#include "spawnpoint/status.h"
