// spawnctl: global flags, then one table of subcommands in the style of ninja's
// {name, help, handler}: each entry is a name (under its parent command, for
// "images pull" and "entity new"), a help line, a function that adds its flags
// and a handler that calls a command from commands.h, image_commands.h or
// auth_commands.h. RunSpawnctl builds the CLI11 app from the table, parses,
// and runs the chosen entry.
#include "cli/app.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/auth_commands.h"
#include "cli/commands.h"
#include "cli/history.h"
#include "cli/image_commands.h"

namespace sp::cli {
namespace {

// Every subcommand's flags. Only one subcommand is parsed, so subcommands that take the same
// flags share one field (the four service commands share `svc`, the images commands `images`).
struct Flags {
  std::vector<std::string> args;  // the process arguments after argv[0], for the deploy history
  std::string argv0;
  // -t/--timeout of deploy, restart and tail, or grant's --expires; parsed (ParseDuration)
  // before the handler runs.
  std::string duration;
  std::optional<Millis> parsed_duration;
  ScanFlags scan;
  DeployFlags deploy;
  ImagesFlags images;
  bool yes = false;
  std::string entity_out;
  GrantFlags grant;
  std::string revoke_pub;
  std::string delegate_uri, delegate_out;
  ServiceFlags svc;
};

// One row of the table.
struct Command {
  const char* parent;  // nullptr for a top-level command, else the name of an earlier row
  const char* name;
  const char* help;
  void (*add_flags)(CLI::App* c, Flags& f);    // nullptr: no flags of its own
  int (*run)(Context& ctx, Flags& f);          // nullptr: a group that requires a subcommand
  void (*on_parse)(const Flags& f) = nullptr;  // optional: runs as soon as the command is parsed
};

void AddUri(CLI::App* c, std::string& uri) {
  c->add_option("-u,--uri", uri,
                "base URI of the Spawnpoint host (default: SPAWNPOINT_DEFAULT_URI, then the local daemon)");
}
void AddName(CLI::App* c, std::string& name, bool required) {
  auto* o = c->add_option("-n,--name", name, "service name");
  if (required) o->required();
}
void AddTimeout(CLI::App* c, std::string& duration) {
  c->add_option("-t,--timeout", duration,
                "stop tailing after this long (e.g. 5s, 2m); default: until Ctrl-C");
}
void AddJson(CLI::App* c, bool& json) { c->add_flag("--json", json, "print JSON"); }

void AddScanFlags(CLI::App* c, Flags& f) {
  AddUri(c, f.scan.uri);
  AddJson(c, f.scan.json);
}
void AddDeployFlags(CLI::App* c, Flags& f) {
  AddUri(c, f.deploy.uri);
  c->add_option("-c,--config", f.deploy.config, "service configuration (deploy.yaml)")->required();
  AddName(c, f.deploy.name, false);
  AddTimeout(c, f.duration);
}
void AddImagesFlags(CLI::App* c, Flags& f) {
  AddUri(c, f.images.uri);
  AddJson(c, f.images.json);
}
void AddPullFlags(CLI::App* c, Flags& f) {
  c->add_option("reference", f.images.reference, "image reference, e.g. 127.0.0.1:5000/web:1.0")->required();
  AddImagesFlags(c, f);
}
void AddDeployLastFlags(CLI::App* c, Flags& f) {
  c->add_flag("-y,--yes", f.yes, "do not ask for confirmation");
}
void AddEntityNewFlags(CLI::App* c, Flags& f) {
  c->add_option("-o,--out", f.entity_out, "file for the entity's secret seed (0600)")->required();
}
void AddGrantFlags(CLI::App* c, Flags& f) {
  GrantFlags& g = f.grant;
  c->add_option("--to", g.to, "the entity's public key (U...)")->required();
  c->add_option("--uri", g.uris, "URI pattern ('*' last = any depth, '+' = one segment); repeatable");
  c->add_option("--perm", g.perm, "P, C or PC (default PC)");
  c->add_option("--expires", f.duration, "validity, e.g. 30d; default: no expiry");
  c->add_option("-o,--out", g.out, "creds file to complete (it holds the entity's seed) or JWT file");
  c->add_option("--signer", g.signer, "a delegation file (spawnctl delegate) instead of the namespace key");
  c->add_option("--daemon", g.daemon, "make a daemon's entity for this base URI instead of URI grants");
  c->add_option("--name", g.name, "name recorded in the grant");
}
void AddRevokeFlags(CLI::App* c, Flags& f) {
  c->add_option("entity", f.revoke_pub, "the entity's public key (U...)")->required();
}
void AddDelegateFlags(CLI::App* c, Flags& f) {
  c->add_option("--uri", f.delegate_uri, "the subtree, e.g. oski/spawnpoint/alpha")->required();
  c->add_option("-o,--out", f.delegate_out, "file for the delegation (a secret signing key, 0600)")
      ->required();
}
// restart and tail: -u, -n and -t.
void AddTailedServiceFlags(CLI::App* c, Flags& f) {
  AddUri(c, f.svc.uri);
  AddName(c, f.svc.name, true);
  AddTimeout(c, f.duration);
}
void AddStopFlags(CLI::App* c, Flags& f) {
  AddUri(c, f.svc.uri);
  AddName(c, f.svc.name, true);
}
void AddInspectFlags(CLI::App* c, Flags& f) {
  AddStopFlags(c, f);
  AddJson(c, f.svc.json);
}

std::string SelfPath(const std::string& argv0) {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  return argv0;
}

// Recorded while parsing, so that `deploy-last` finds even a deploy that fails later.
void RecordDeploy(const Flags& f) {
  Status st = AppendHistory(HistoryPath(), CurrentDir(), f.args);
  if (!st.ok()) PrintError("spawnctl: warning: could not record history: " + st.message());
}

int RunDeploy(Context& ctx, Flags& f) {
  f.deploy.timeout = f.parsed_duration;
  return Deploy(ctx, f.deploy);
}
int RunGrant(Context&, Flags& f) {
  f.grant.expires = f.parsed_duration;
  return Grant(f.grant);
}
// The handler of a service command, with its -t/--timeout (if it has one).
template <int (*kHandler)(Context&, const ServiceFlags&)>
int RunService(Context& ctx, Flags& f) {
  f.svc.timeout = f.parsed_duration;
  return kHandler(ctx, f.svc);
}

// Help texts, flags and order are spawnctl's interface: `spawnctl --help` lists the commands in
// this order.
const Command kCommands[] = {
    {nullptr, "scan", "list hosts under a base URI and their services", &AddScanFlags,
     [](Context& ctx, Flags& f) { return Scan(ctx, f.scan); }},
    {nullptr, "deploy", "deploy a service and tail its log", &AddDeployFlags, &RunDeploy, &RecordDeploy},
    {nullptr, "images", "list the host's local images", &AddImagesFlags,
     [](Context& ctx, Flags& f) { return Images(ctx, f.images); }},
    {"images", "pull", "pull an image into the host's store, showing progress", &AddPullFlags,
     [](Context& ctx, Flags& f) { return PullImage(ctx, f.images); }},
    {"images", "prune", "remove images no service uses, and their layers", &AddImagesFlags,
     [](Context& ctx, Flags& f) { return PruneImages(ctx, f.images); }},
    {nullptr, "deploy-last", "re-run the last deploy command run in this directory", &AddDeployLastFlags,
     [](Context&, Flags& f) { return DeployLast(f.yes, SelfPath(f.argv0)); }},
    // Identity and permissions (docs/security.md).
    {nullptr, "entity", "manage entities (key pairs)", nullptr, nullptr},
    {"entity", "new", "make a new entity; prints its public key", &AddEntityNewFlags,
     [](Context&, Flags& f) { return EntityNew(f.entity_out); }},
    {nullptr, "grant", "grant an entity permissions on URIs (P = publish, C = consume)", &AddGrantFlags,
     &RunGrant},
    {nullptr, "revoke", "revoke every grant of an entity (takes effect at once)", &AddRevokeFlags,
     [](Context&, Flags& f) { return Revoke(f.revoke_pub); }},
    {nullptr, "delegate", "let another entity grant permissions within a URI subtree", &AddDelegateFlags,
     [](Context&, Flags& f) { return Delegate(f.delegate_uri, f.delegate_out); }},
    {nullptr, "router-config", "print the nats-server auth config for this namespace", nullptr,
     [](Context&, Flags&) { return RouterConfig(); }},
    {nullptr, "restart", "restart a service and tail its log", &AddTailedServiceFlags, &RunService<&Restart>},
    {nullptr, "stop", "stop a service and remove it (its reservation is returned)", &AddStopFlags,
     &RunService<&Stop>},
    {nullptr, "tail", "follow a service's log", &AddTailedServiceFlags, &RunService<&Tail>},
    {nullptr, "inspect", "show a service's state, reservation, usage, restarts and events", &AddInspectFlags,
     &RunService<&Inspect>},
};

void AddGlobalFlags(CLI::App& app, GlobalFlags& g) {
  app.add_option("-r,--router", g.router, "NATS router URL, e.g. nats://127.0.0.1:4222")
      ->envname("SPAWNPOINT_ROUTER");
  app.add_option("-e,--entity", g.entity, "entity (.creds file) to act as")->envname("SPAWNPOINT_ENTITY");
}

// Adds every row of kCommands to `app`; parsing sets `chosen` to the row to run. A parent's
// callback (images) chooses itself only when none of its subcommands was chosen.
void AddCommands(CLI::App& app, Flags& f, const Command*& chosen) {
  std::map<std::string, CLI::App*> parents;
  for (const Command& cmd : kCommands) {
    CLI::App* parent = cmd.parent ? parents.at(cmd.parent) : &app;
    CLI::App* c = parent->add_subcommand(cmd.name, cmd.help);
    if (!cmd.parent) parents[cmd.name] = c;
    if (cmd.add_flags) cmd.add_flags(c, f);
    if (!cmd.run) {
      c->require_subcommand(1);
      continue;
    }
    c->callback([&f, &chosen, &cmd] {
      if (cmd.on_parse) cmd.on_parse(f);
      if (!chosen || cmd.parent) chosen = &cmd;
    });
  }
}

// Parses the chosen command's duration flag (an error names the command), then runs it.
int Run(const Command& cmd, Context& ctx, Flags& f) {
  if (!f.duration.empty()) {
    auto d = ParseDuration(f.duration);
    if (!d) return Fail(d.error(), cmd.name);
    f.parsed_duration = *d;
  }
  return cmd.run(ctx, f);
}

}  // namespace

int RunSpawnctl(int argc, char** argv) {
  CLI::App app{"spawnctl: deploy and manage services on Spawnpoint hosts"};
  app.require_subcommand(1);
  GlobalFlags g;
  AddGlobalFlags(app, g);
  Flags f;
  f.args.assign(argv + 1, argv + argc);
  f.argv0 = argv[0];
  const Command* chosen = nullptr;
  AddCommands(app, f, chosen);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  InstallInterruptHandler();
  Context ctx(g);
  return Run(*chosen, ctx, f);
}

}  // namespace sp::cli
