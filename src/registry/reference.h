// Image references as users write them in deploy.yaml and on the command line, parsed into the
// parts a pull needs: where the image comes from (a registry, an OCI layout directory or an
// oci-archive tar file), which repository, and which tag and/or digest.
//
// Registry references follow Docker's normalisation, so what works with `docker pull` works here:
// "busybox" is "docker.io/library/busybox:latest"; a first component containing '.' or ':' (or
// "localhost", or upper-case letters) names the registry; "name@sha256:..." and
// "name:tag@sha256:..." pin the content (the digest wins when fetching). Repository components
// follow the distribution specification's grammar, tags `[\w][\w.-]{0,127}`; anything else is
// refused with an error saying which part is wrong and what is allowed.
//
// Local references: "oci:/abs/layout-dir[:tag][@sha256:...]" and
// "oci-archive:/abs/file.tar[:tag][@sha256:...]"; as with skopeo the path ends at the first ':'.
// Paths must be absolute.
//
// Everything here is a pure function or an immutable value: thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace sp {

struct ImageReference {
  std::string transport;   // "docker" (a registry), "oci" (layout directory), "oci-archive" (tar file)
  std::string registry;    // docker: "127.0.0.1:5000", "docker.io", "ghcr.io"
  std::string repository;  // docker: "library/busybox"
  std::string tag;         // empty when only a digest was given (or for an untagged layout reference)
  std::string digest;      // "sha256:<hex>", or empty
  std::string path;        // oci / oci-archive: absolute filesystem path

  // The canonical text: "docker.io/library/busybox:latest", "oci:/srv/layout:v1",
  // "127.0.0.1:5000/app:v2@sha256:...". Parsing it again gives the same reference.
  std::string String() const;
  // The host[:port] to contact for a registry reference: docker.io -> registry-1.docker.io.
  std::string RegistryHost() const;
};

Result<ImageReference> ParseImageReference(std::string_view text);

// The pieces of the grammar, for code that receives them from elsewhere (e.g. an ImageReference
// built by hand). Each returns InvalidArgument saying what is wrong.
Status ValidateRegistryHost(std::string_view host);      // host[:port]; IPv6 as [addr]:port
Status ValidateRepository(std::string_view repository);  // lower-case path components
Status ValidateTag(std::string_view tag);                // [\w][\w.-]{0,127}

}  // namespace sp
