// spawnctl: global flags, then a table of subcommands, each a name, a help
// line, its flags and a handler from commands.h.
#include "cli/app.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <functional>

#include "cli/auth_commands.h"
#include "cli/commands.h"
#include "cli/image_commands.h"
#include "cli/history.h"

namespace sp::cli {
namespace {

// A -t/--timeout value, validated by ParseDuration.
struct TimeoutFlag {
  std::string text;
  Result<std::optional<Millis>> Get() const {
    if (text.empty()) return std::optional<Millis>();
    SP_ASSIGN_OR_RETURN(Millis d, ParseDuration(text));
    return std::optional<Millis>(d);
  }
};

void AddUri(CLI::App* c, std::string& uri) {
  c->add_option("-u,--uri", uri, "base URI of the Spawnpoint host (default: SPAWNPOINT_DEFAULT_URI, then the local daemon)");
}
void AddName(CLI::App* c, std::string& name, bool required) {
  auto* o = c->add_option("-n,--name", name, "service name");
  if (required) o->required();
}
void AddTimeout(CLI::App* c, TimeoutFlag& t) {
  c->add_option("-t,--timeout", t.text, "stop tailing after this long (e.g. 5s, 2m); default: until Ctrl-C");
}

std::string SelfPath(const char* argv0) {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  return argv0;
}

std::string Cwd() {
  char buf[4096];
  return ::getcwd(buf, sizeof buf) ? buf : ".";
}

}  // namespace

int RunSpawnctl(int argc, char** argv) {
  CLI::App app{"spawnctl: deploy and manage services on Spawnpoint hosts"};
  app.require_subcommand(1);
  GlobalFlags g;
  app.add_option("-r,--router", g.router, "NATS router URL, e.g. nats://127.0.0.1:4222")->envname("SPAWNPOINT_ROUTER");
  app.add_option("-e,--entity", g.entity, "entity (.creds file) to act as")->envname("SPAWNPOINT_ENTITY");

  ScanFlags scan;
  DeployFlags deploy;
  TimeoutFlag deploy_timeout;
  ServiceFlags svc;
  TimeoutFlag svc_timeout;
  bool yes = false;
  std::function<int(Context&)> run;

  auto* c = app.add_subcommand("scan", "list hosts under a base URI and their services");
  AddUri(c, scan.uri);
  c->add_flag("--json", scan.json, "print JSON");
  c->callback([&] { run = [&](Context& ctx) { return Scan(ctx, scan); }; });

  c = app.add_subcommand("deploy", "deploy a service and tail its log");
  AddUri(c, deploy.uri);
  c->add_option("-c,--config", deploy.config, "service configuration (deploy.yaml)")->required();
  AddName(c, deploy.name, false);
  AddTimeout(c, deploy_timeout);
  c->callback([&] {
    std::vector<std::string> args(argv + 1, argv + argc);
    Status st = AppendHistory(HistoryPath(), Cwd(), args);
    if (!st.ok()) PrintError("spawnctl: warning: could not record history: " + st.message());
    run = [&](Context& ctx) {
      auto t = deploy_timeout.Get();
      if (!t) return Fail(t.error(), "deploy");
      deploy.timeout = *t;
      return Deploy(ctx, deploy);
    };
  });

  ImagesFlags images;
  auto* images_cmd = app.add_subcommand("images", "list the host's local images");
  AddUri(images_cmd, images.uri);
  images_cmd->add_flag("--json", images.json, "print JSON");
  auto* pull_cmd = images_cmd->add_subcommand("pull", "pull an image into the host's store, showing progress");
  pull_cmd->add_option("reference", images.reference, "image reference, e.g. 127.0.0.1:5000/web:1.0")->required();
  AddUri(pull_cmd, images.uri);
  pull_cmd->add_flag("--json", images.json, "print JSON");
  pull_cmd->callback([&] { run = [&](Context& ctx) { return PullImage(ctx, images); }; });
  auto* prune_cmd = images_cmd->add_subcommand("prune", "remove images no service uses, and their layers");
  AddUri(prune_cmd, images.uri);
  prune_cmd->add_flag("--json", images.json, "print JSON");
  prune_cmd->callback([&] { run = [&](Context& ctx) { return PruneImages(ctx, images); }; });
  images_cmd->callback([&] {
    if (!run) run = [&](Context& ctx) { return Images(ctx, images); };
  });

  c = app.add_subcommand("deploy-last", "re-run the last deploy command run in this directory");
  c->add_flag("-y,--yes", yes, "do not ask for confirmation");
  c->callback([&] { run = [&](Context&) { return DeployLast(yes, SelfPath(argv[0])); }; });

  // Identity and permissions (docs/security.md).
  auto* entity = app.add_subcommand("entity", "manage entities (key pairs)");
  entity->require_subcommand(1);
  std::string entity_out;
  auto* entity_new = entity->add_subcommand("new", "make a new entity; prints its public key");
  entity_new->add_option("-o,--out", entity_out, "file for the entity's secret seed (0600)")->required();
  entity_new->callback([&] { run = [&](Context&) { return EntityNew(entity_out); }; });

  GrantFlags grant;
  TimeoutFlag grant_expires;
  c = app.add_subcommand("grant", "grant an entity permissions on URIs (P = publish, C = consume)");
  c->add_option("--to", grant.to, "the entity's public key (U...)")->required();
  c->add_option("--uri", grant.uris, "URI pattern ('*' last = any depth, '+' = one segment); repeatable");
  c->add_option("--perm", grant.perm, "P, C or PC (default PC)");
  c->add_option("--expires", grant_expires.text, "validity, e.g. 30d; default: no expiry");
  c->add_option("-o,--out", grant.out, "creds file to complete (it holds the entity's seed) or JWT file");
  c->add_option("--signer", grant.signer, "a delegation file (spawnctl delegate) instead of the namespace key");
  c->add_option("--daemon", grant.daemon, "make a daemon's entity for this base URI instead of URI grants");
  c->add_option("--name", grant.name, "name recorded in the grant");
  c->callback([&] {
    run = [&](Context&) {
      auto t = grant_expires.Get();
      if (!t) return Fail(t.error(), "grant");
      grant.expires = *t;
      return Grant(grant);
    };
  });

  std::string revoke_pub;
  c = app.add_subcommand("revoke", "revoke every grant of an entity (takes effect at once)");
  c->add_option("entity", revoke_pub, "the entity's public key (U...)")->required();
  c->callback([&] { run = [&](Context&) { return Revoke(revoke_pub); }; });

  std::string delegate_uri, delegate_out;
  c = app.add_subcommand("delegate", "let another entity grant permissions within a URI subtree");
  c->add_option("--uri", delegate_uri, "the subtree, e.g. oski/spawnpoint/alpha")->required();
  c->add_option("-o,--out", delegate_out, "file for the delegation (a secret signing key, 0600)")->required();
  c->callback([&] { run = [&](Context&) { return Delegate(delegate_uri, delegate_out); }; });

  c = app.add_subcommand("router-config", "print the nats-server auth config for this namespace");
  c->callback([&] { run = [&](Context&) { return RouterConfig(); }; });

  struct ServiceCommand {
    const char* name;
    const char* help;
    int (*handler)(Context&, const ServiceFlags&);
    bool timeout;
    bool json;
  };
  const ServiceCommand service_commands[] = {
      {"restart", "restart a service and tail its log", &Restart, true, false},
      {"stop", "stop a service and remove it (its reservation is returned)", &Stop, false, false},
      {"tail", "follow a service's log", &Tail, true, false},
      {"inspect", "show a service's state, reservation, usage, restarts and events", &Inspect, false, true},
  };
  for (const ServiceCommand& sc : service_commands) {
    c = app.add_subcommand(sc.name, sc.help);
    AddUri(c, svc.uri);
    AddName(c, svc.name, true);
    if (sc.timeout) AddTimeout(c, svc_timeout);
    if (sc.json) c->add_flag("--json", svc.json, "print JSON");
    auto handler = sc.handler;
    std::string cmd = sc.name;
    c->callback([&, handler, cmd] {
      run = [&, handler, cmd](Context& ctx) {
        auto t = svc_timeout.Get();
        if (!t) return Fail(t.error(), cmd);
        svc.timeout = *t;
        return handler(ctx, svc);
      };
    });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  InstallInterruptHandler();
  Context ctx(g);
  return run(ctx);
}

}  // namespace sp::cli
