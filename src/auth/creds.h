// `.creds` files: a user's JWT and its NKey seed in one text file, the format
// nats-server's clients (cnats: natsOptions_SetUserCredentialsFromFiles) read.
//
//   -----BEGIN NATS USER JWT-----
//   <jwt>
//   ------END NATS USER JWT------
//   ... prose ...
//   -----BEGIN USER NKEY SEED-----
//   <seed>
//   ------END USER NKEY SEED------
//
// A seed-only file (an entity that has no grant yet) holds just the seed
// block. A creds file is a secret (it holds the seed): write it 0600, never log it.
// Parsing treats the text as untrusted: any damage is InvalidArgument with a
// message naming what was wrong, never a crash, and never echoes the seed.
// All functions are thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "auth/nkeys.h"
#include "util/status.h"

namespace sp {

struct Creds {
  std::string jwt;
  KeyPair key;            // the user key pair named by the JWT's `sub`
  nlohmann::json claims;  // the verified JWT claims
};

// Text of a .creds file. Does not validate its inputs.
std::string FormatCreds(std::string_view jwt, std::string_view seed);

// Parses the text of a .creds file and checks that the seed is a user seed,
// that the JWT verifies (signature, expiry) and that its subject is the
// seed's public key.
Result<Creds> ParseCreds(std::string_view text);

// Reads and parses a .creds file (at most 1 MiB); errors name the path.
Result<Creds> ReadCredsFile(const std::string& path);

// What a client needs to connect: the JWT as text and the key pair that signs the server's nonce.
struct ClientCreds {
  std::string jwt;
  KeyPair key;
};
// Reads a .creds file for connecting: the user seed is checked, the JWT is not (the router verifies
// it, and says why it refuses an expired or revoked one). Errors name the path, never the seed.
Result<ClientCreds> ReadClientCreds(const std::string& path);

// Writes FormatCreds(jwt, seed) to `path`, 0600, atomically.
Status WriteCredsFile(const std::string& path, std::string_view jwt, std::string_view seed);

// An entity without a grant yet: a file with only the "USER NKEY SEED"
// block, 0600, written atomically. InvalidArgument unless `key` is a user key.
Status WriteSeedFile(const std::string& path, const KeyPair& key);
// The user key pair of a seed-only file or of a full .creds file (its JWT is
// neither needed nor checked, so an expired or revoked creds file still
// yields its key). Errors name the path, never the seed.
Result<KeyPair> ReadSeedFile(const std::string& path);

}  // namespace sp
