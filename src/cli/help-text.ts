// What `mycr --help` groups and what each command's help shows besides its flags: the
// usage lines and examples. Flags and descriptions come from the commands themselves
// (their citty definitions), so help and completion never disagree with the parser.

export interface CommandGroup {
  title: string;
  commands: string[];
}

/** docker's grouping, and the OCI runtime's verbs apart (the face podman, containerd and CRI-O use). */
export const GROUPS: CommandGroup[] = [
  { title: "Common Commands", commands: ["run", "exec", "ps", "build", "pull", "push", "images", "login", "logout", "version", "info"] },
  { title: "Management Commands", commands: ["container", "image", "network", "system"] },
  {
    title: "Commands",
    commands: ["attach", "commit", "cp", "diff", "export", "gc", "import", "inspect", "kill", "load", "logs", "port", "rename", "restart", "rm", "rmi", "save", "start", "stats", "stop", "tag", "top", "wait", "completion", "help"],
  },
  { title: "OCI Runtime Commands (runc's interface)", commands: ["create", "start", "state", "kill", "delete", "exec", "ps", "pause", "resume", "update", "events", "list", "spec", "features"] },
];

export interface CommandText {
  usage: string[];
  examples: string[];
}

export const TEXT: Record<string, CommandText> = {
  run: {
    usage: ["mycr run [OPTIONS] COMMAND [ARG...]", "mycr run [OPTIONS] --image IMAGE [COMMAND [ARG...]]"],
    examples: [
      "mycr run sh                                   # a shell in a container over the host's root, read-only below, writes thrown away",
      "mycr run --image alpine:3.20 -it sh           # from an image (pulled when missing)",
      "mycr run -d --name web -p 8080:80 --image nginx:alpine",
      "mycr run --rootfs ./rootfs --memory 256m --pids-limit 100 /bin/app",
    ],
  },
  "container run": {
    usage: ["mycr container run [OPTIONS] IMAGE [COMMAND [ARG...]]"],
    examples: ["mycr container run alpine:3.20 echo hello", "mycr container run -d --name web -p 8080:80 nginx:alpine"],
  },
  exec: {
    usage: ["mycr exec [OPTIONS] CONTAINER COMMAND [ARG...]"],
    examples: ["mycr exec -it web sh", "mycr exec -u nobody -e DEBUG=1 web env", "mycr exec -d web touch /tmp/marker"],
  },
  ps: {
    usage: ["mycr ps [OPTIONS]", "mycr ps CONTAINER [PS_OPTIONS...]     (runc's ps: the container's processes)"],
    examples: ["mycr ps -a", "mycr ps -f status=exited -f label=app=shop", "mycr ps --format 'table {{.Names}}\\t{{.Status}}'", "mycr ps -q --no-trunc"],
  },
  pull: { usage: ["mycr pull [OPTIONS] IMAGE"], examples: ["mycr pull alpine:3.20", "mycr pull --platform linux/arm64 localhost:5000/app:1"] },
  push: {
    usage: ["mycr push [OPTIONS] IMAGE [DESTINATION]"],
    examples: ["mycr push localhost:5000/team/app:1.2", "mycr push app:1 registry.example.com/me/app:1", "mycr push --tls-verify=false 127.0.0.1:5000/app:dev"],
  },
  build: {
    usage: ["mycr build [OPTIONS] DIRECTORY"],
    examples: ["mycr build -t app:1 .", "mycr build -f Containerfile --target runtime --build-arg VERSION=2 -t app:2 ./src", "mycr build --no-cache -t app:dev ."],
  },
  commit: {
    usage: ["mycr commit [OPTIONS] CONTAINER [IMAGE]"],
    examples: ["mycr commit web web-snapshot:1", "mycr commit -c 'CMD [\"/app\"]' -m 'add config' web app:2", "mycr commit --pause=false web"],
  },
  images: { usage: ["mycr images [OPTIONS]"], examples: ["mycr images", "mycr images --format json", "mycr images -q"] },
  login: { usage: ["mycr login [OPTIONS] [REGISTRY]"], examples: ["echo \"$TOKEN\" | mycr login -u me --password-stdin registry.example.com"] },
  logout: { usage: ["mycr logout [REGISTRY]"], examples: ["mycr logout registry.example.com"] },
  version: { usage: ["mycr version [OPTIONS]"], examples: ["mycr version", "mycr version --format json", "mycr version -f '{{.Client.Version}}'"] },
  info: { usage: ["mycr info [OPTIONS]"], examples: ["mycr info", "mycr info --format json"] },
  container: {
    usage: ["mycr container COMMAND"],
    examples: ["mycr container ls -a", "mycr container run alpine:3.20 echo hi", "mycr container prune"],
  },
  image: { usage: ["mycr image COMMAND"], examples: ["mycr image ls", "mycr image inspect alpine:3.20", "mycr image prune -a"] },
  network: {
    usage: ["mycr network create [--subnet CIDR] NAME", "mycr network ls | inspect NAME | rm NAME"],
    examples: ["mycr network create --subnet 10.90.0.0/24 backend", "mycr run -d --name db --network backend --image postgres:16", "mycr network rm backend"],
  },
  system: { usage: ["mycr system COMMAND"], examples: ["mycr system df", "mycr system info"] },
  "system df": { usage: ["mycr system df [OPTIONS]"], examples: ["mycr system df", "mycr system df --format json"] },
  attach: { usage: ["mycr attach CONTAINER"], examples: ["mycr logs -f web     # what works today: follow its output", "mycr exec -it web sh"] },
  cp: {
    usage: ["mycr cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-", "mycr cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH"],
    examples: ["mycr cp web:/etc/nginx/nginx.conf .", "mycr cp ./site/. web:/usr/share/nginx/html", "mycr cp web:/var/log - | tar -tv", "tar -c conf | mycr cp - web:/etc"],
  },
  diff: { usage: ["mycr diff CONTAINER"], examples: ["mycr diff web"] },
  export: { usage: ["mycr export [OPTIONS] CONTAINER"], examples: ["mycr export web > web.tar", "mycr export -o web.tar web"] },
  gc: { usage: ["mycr gc"], examples: ["mycr gc     # remove what killed mycr processes left behind"] },
  import: { usage: ["mycr import [OPTIONS] FILE|- [REPOSITORY[:TAG]]"], examples: ["mycr import rootfs.tar myroot:1", "mycr export web | mycr import - web-snapshot:1"] },
  inspect: {
    usage: ["mycr inspect [OPTIONS] NAME|ID [NAME|ID...]"],
    examples: ["mycr inspect web", "mycr inspect -f '{{.State.Pid}}' web", "mycr inspect -f '{{json .Config.Labels}}' web", "mycr inspect alpine:3.20"],
  },
  kill: { usage: ["mycr kill [OPTIONS] CONTAINER [CONTAINER...]", "mycr kill ID [SIGNAL]     (runc's form)"], examples: ["mycr kill web", "mycr kill -s HUP web", "mycr kill 3f2a… TERM"] },
  load: { usage: ["mycr load [OPTIONS]"], examples: ["mycr load -i images.tar", "mycr load < images.tar"] },
  logs: { usage: ["mycr logs [OPTIONS] CONTAINER"], examples: ["mycr logs web", "mycr logs -f --tail 20 web", "mycr logs --since 10m -t web"] },
  port: { usage: ["mycr port CONTAINER [PRIVATE_PORT[/PROTO]]"], examples: ["mycr port web", "mycr port web 80/tcp"] },
  rename: { usage: ["mycr rename CONTAINER NEW_NAME"], examples: ["mycr rename web web-old"] },
  restart: { usage: ["mycr restart [OPTIONS] CONTAINER [CONTAINER...]"], examples: ["mycr restart web", "mycr restart -t 2 web db"] },
  rm: { usage: ["mycr rm [OPTIONS] CONTAINER [CONTAINER...]"], examples: ["mycr rm web", "mycr rm -f $(mycr ps -aq)"] },
  rmi: { usage: ["mycr rmi [OPTIONS] IMAGE [IMAGE...]"], examples: ["mycr rmi alpine:3.20"] },
  save: { usage: ["mycr save [OPTIONS] IMAGE [IMAGE...]"], examples: ["mycr save -o images.tar alpine:3.20 nginx:alpine", "mycr save --format oci-archive alpine:3.20 > alpine.tar"] },
  start: { usage: ["mycr start CONTAINER     (docker: a detached container that exited; OCI: a created one)"], examples: ["mycr start web"] },
  stats: {
    usage: ["mycr stats [OPTIONS] [CONTAINER...]"],
    examples: ["mycr stats", "mycr stats --no-stream web", "mycr stats --no-stream --format '{{.Name}}: {{.MemUsage}}'"],
  },
  stop: { usage: ["mycr stop [OPTIONS] CONTAINER [CONTAINER...]"], examples: ["mycr stop web", "mycr stop -t 2 -s INT web"] },
  tag: { usage: ["mycr tag SOURCE_IMAGE TARGET_IMAGE"], examples: ["mycr tag alpine:3.20 localhost:5000/alpine:3.20"] },
  top: { usage: ["mycr top CONTAINER [PS_OPTIONS...]"], examples: ["mycr top web", "mycr top web -o pid,comm"] },
  wait: { usage: ["mycr wait CONTAINER [CONTAINER...]"], examples: ["mycr wait web"] },
  completion: {
    usage: ["mycr completion bash|zsh|fish"],
    examples: ["source <(mycr completion bash)                      # this bash session", "mycr completion bash > /etc/bash_completion.d/mycr", "source <(mycr completion zsh)                       # in ~/.zshrc", "mycr completion fish > ~/.config/fish/completions/mycr.fish"],
  },
  help: { usage: ["mycr help [COMMAND]"], examples: ["mycr help", "mycr help run", "mycr help container"] },
  create: { usage: ["mycr create [OPTIONS] --bundle DIR ID"], examples: ["mycr create --bundle ./bundle --pid-file pid c1 && mycr start c1"] },
  state: { usage: ["mycr state ID"], examples: ["mycr state c1"] },
  delete: { usage: ["mycr delete [OPTIONS] ID"], examples: ["mycr delete c1", "mycr delete --force c1"] },
  pause: { usage: ["mycr pause ID"], examples: ["mycr pause web"] },
  resume: { usage: ["mycr resume ID"], examples: ["mycr resume web"] },
  update: { usage: ["mycr update [OPTIONS] ID"], examples: ["mycr update --memory 512m --pids-limit 200 web", "mycr update -r resources.json c1"] },
  events: { usage: ["mycr events [OPTIONS] ID"], examples: ["mycr events --stats web", "mycr events --interval 2s c1"] },
  list: { usage: ["mycr list [OPTIONS]"], examples: ["mycr list", "mycr list -f json"] },
  spec: { usage: ["mycr spec [OPTIONS]"], examples: ["mycr spec -b ./bundle"] },
  features: { usage: ["mycr features"], examples: ["mycr features | jq .linux.namespaces"] },
};
