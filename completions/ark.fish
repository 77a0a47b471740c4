# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ark_global_optspecs
    string join \n kubeconfig= context= o/output= config= v/verbose y/yes h/help V/version
end

function __fish_ark_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ark_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ark_using_subcommand
    set -l cmd (__fish_ark_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ark -n "__fish_ark_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_needs_command" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_needs_command" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_needs_command" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_needs_command" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_needs_command" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ark -n "__fish_ark_needs_command" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_needs_command" -f -a "backup" -d 'Create, list, inspect, download and delete backups'
complete -c ark -n "__fish_ark_needs_command" -f -a "restore" -d 'Restore from a backup, and list, inspect and delete restores'
complete -c ark -n "__fish_ark_needs_command" -f -a "schedule" -d 'Manage schedules that `ark daemon` turns into backups'
complete -c ark -n "__fish_ark_needs_command" -f -a "daemon" -d 'Run due schedules, expire backups past their TTL and sync, until stopped'
complete -c ark -n "__fish_ark_needs_command" -f -a "sync" -d 'Refresh the local cache of backups and restores from every storage location'
complete -c ark -n "__fish_ark_needs_command" -f -a "gc" -d 'Delete every backup past its expiration, with its snapshots and restores'
complete -c ark -n "__fish_ark_needs_command" -f -a "config" -d 'View and change ark\'s configuration: storage and volume snapshot locations, defaults'
complete -c ark -n "__fish_ark_needs_command" -f -a "completion" -d 'Print shell completions for bash, zsh, fish, elvish or PowerShell'
complete -c ark -n "__fish_ark_needs_command" -f -a "version" -d 'Print ark\'s version and the version of the cluster it talks to'
complete -c ark -n "__fish_ark_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -f -a "create" -d 'Back up the cluster (or part of it) into a storage location'
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -f -a "get" -d 'List backups (from the storage location, the source of truth)'
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -f -a "describe" -d 'Show one backup: phase, filters, counts, warnings, the revision it was taken at'
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -f -a "logs" -d 'Print a backup\'s log'
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -f -a "download" -d 'Download a backup\'s archive to a local file'
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -f -a "delete" -d 'Delete backups: their objects in the bucket and their volume snapshots'
complete -c ark -n "__fish_ark_using_subcommand backup; and not __fish_seen_subcommand_from create get describe logs download delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -s n -l include-namespaces -l namespace -d 'Namespaces to include, comma-separated; globs such as `team-*` work (default: all)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l exclude-namespaces -d 'Namespaces to exclude, comma-separated; globs work' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l include-resources -d 'Resources to include, comma-separated: `deployments.apps`, `deploy`, `Deployment`, `configmaps` (default: all)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l exclude-resources -d 'Resources to exclude, comma-separated, in the same forms' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l include-cluster-resources -d 'Include cluster-scoped objects: true, false, or unset for auto (all of them for a whole-cluster run; for a namespaced run, only those its objects need, such as their CRDs and the PVs bound to their PVCs)' -r -f -a "true\t''
false\t''"
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -s l -l selector -d 'Only objects matching this label selector (`app=web,tier!=cache`)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l or-selector -d 'Objects matching any of these label selectors; repeat the flag for each one' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l ttl -d 'How long to keep the backup; its expiration is recorded with it (default: the config\'s defaultTtl, else 720h)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l storage-location -d 'Storage location to write to (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l snapshot-volumes -d 'Snapshot the disks of the persistent volumes in the backup (default: true when a volume snapshot location is configured or named); `--snapshot-volumes=false` takes none' -r -f -a "true\t''
false\t''"
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l volume-snapshot-location -d 'Volume snapshot location to take the snapshots through (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l hooks -d 'A YAML file of hooks: commands run in the containers of pods chosen by namespace and label selector, before and after the backup (see the README). A pod\'s own hook annotations (`pre.hook.backup.ark.heptio.com/command`...) take precedence' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from get" -l storage-location -d 'Storage location to read (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from get" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from get" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from get" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from get" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from get" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from describe" -l storage-location -d 'Storage location to read (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from describe" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from describe" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from describe" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from describe" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from describe" -l details -d 'Also list every resource type with its object count, each volume snapshot and each hook'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from describe" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from describe" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from describe" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from describe" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from logs" -l storage-location -d 'Storage location to read (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from logs" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from logs" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from logs" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from logs" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from logs" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from logs" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from logs" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from logs" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from download" -s f -l file -d 'Where to write the archive (default: ./NAME.tar.gz)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from download" -l storage-location -d 'Storage location to read (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from download" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from download" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from download" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from download" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from download" -l force -d 'Overwrite the file if it exists'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from download" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from download" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from download" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from download" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from delete" -l storage-location -d 'Storage location to delete from (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from delete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from delete" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from delete" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from delete" -l all -d 'Delete every backup in the storage location'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from delete" -l confirm -d 'Delete without asking (the same as the global --yes)'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "create" -d 'Back up the cluster (or part of it) into a storage location'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "get" -d 'List backups (from the storage location, the source of truth)'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "describe" -d 'Show one backup: phase, filters, counts, warnings, the revision it was taken at'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "logs" -d 'Print a backup\'s log'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "download" -d 'Download a backup\'s archive to a local file'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete backups: their objects in the bucket and their volume snapshots'
complete -c ark -n "__fish_ark_using_subcommand backup; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -f -a "create" -d 'Restore objects from a backup into the cluster'
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -f -a "get" -d 'List restores'
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -f -a "describe" -d 'Show one restore: phase, counts, warnings and errors per namespace'
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -f -a "logs" -d 'Print a restore\'s log'
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -f -a "delete" -d 'Delete restore records (the restored objects stay in the cluster)'
complete -c ark -n "__fish_ark_using_subcommand restore; and not __fish_seen_subcommand_from create get describe logs delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l from-backup -d 'The backup to restore from (on a terminal, without it, ark offers the backups to pick from)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -s n -l include-namespaces -l namespace -d 'Namespaces to include, comma-separated; globs such as `team-*` work (default: all)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l exclude-namespaces -d 'Namespaces to exclude, comma-separated; globs work' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l include-resources -d 'Resources to include, comma-separated: `deployments.apps`, `deploy`, `Deployment`, `configmaps` (default: all)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l exclude-resources -d 'Resources to exclude, comma-separated, in the same forms' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l include-cluster-resources -d 'Include cluster-scoped objects: true, false, or unset for auto (all of them for a whole-cluster run; for a namespaced run, only those its objects need, such as their CRDs and the PVs bound to their PVCs)' -r -f -a "true\t''
false\t''"
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -s l -l selector -d 'Only objects matching this label selector (`app=web,tier!=cache`)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l or-selector -d 'Objects matching any of these label selectors; repeat the flag for each one' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l namespace-mappings -d 'Move namespaces: OLD:NEW pairs, comma-separated (`shop:shop-copy,db:db-copy`)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l existing-resource-policy -d 'What to do with objects that already exist: `none` skips them (and reports whether they differ), `update` patches them to the backed-up state' -r -f -a "none\t''
update\t''"
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l restore-status -d 'Keep the status of these resources (comma-separated) instead of dropping it' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l resource-priorities -d 'Restore order, comma-separated resources, overriding the documented default' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l restore-volumes -d 'Make new volumes from the backup\'s volume snapshots for the persistent volumes restored; `--restore-volumes=false` restores the PVs as they were, pointing at the old disks' -r -f -a "true\t''
false\t''"
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l volume-az -d 'Availability zone for the new volumes (default: the zone each volume was snapshotted in)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l wait-timeout -d 'How long to wait for a Terminating namespace to go or a CRD to become Established' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l storage-location -d 'Storage location to read the backup from (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l preserve-nodeports -d 'Keep Service node ports as they were in the backup'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l dry-run -d 'Do everything but create: show what would be created, skipped or updated, checked by the server (server-side dry run)'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l fail-fast -d 'Stop at the first object that fails (by default a failed object never stops the others)'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -l allow-partial -d 'Restore from a backup that is Failed or still InProgress: whatever its archive holds'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from get" -l storage-location -d 'Storage location to read (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from get" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from get" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from get" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from get" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from get" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from describe" -l storage-location -d 'Storage location to read (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from describe" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from describe" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from describe" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from describe" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from describe" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from describe" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from describe" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from describe" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from logs" -l storage-location -d 'Storage location to read (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from logs" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from logs" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from logs" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from logs" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from logs" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from logs" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from logs" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from logs" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from delete" -l storage-location -d 'Storage location to delete from (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from delete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from delete" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from delete" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from help" -f -a "create" -d 'Restore objects from a backup into the cluster'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from help" -f -a "get" -d 'List restores'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from help" -f -a "describe" -d 'Show one restore: phase, counts, warnings and errors per namespace'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from help" -f -a "logs" -d 'Print a restore\'s log'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete restore records (the restored objects stay in the cluster)'
complete -c ark -n "__fish_ark_using_subcommand restore; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -f -a "create" -d 'Create a schedule: backups named SCHEDULE-YYYYMMDDhhmmss at each cron time'
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -f -a "get" -d 'List schedules with their last and next runs'
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -f -a "describe" -d 'Show one schedule: its timing, what its backups take and its backups in the local cache'
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -f -a "delete" -d 'Delete a schedule (its backups stay until they expire)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -f -a "pause" -d 'Stop a schedule from running until it is unpaused'
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -f -a "unpause" -d 'Let a paused schedule run again (a cron time missed while it was paused runs at once)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and not __fish_seen_subcommand_from create get describe delete pause unpause help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l schedule -d 'When to back up: a 5-field cron expression (`0 2 * * *`), `@every 6h`, `@daily`, `@hourly`, `@weekly`, `@monthly` or `@yearly`' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l timezone -d 'Time zone the cron expression is read in, an IANA name such as Europe/Berlin (default: UTC)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -s n -l include-namespaces -l namespace -d 'Namespaces to include, comma-separated; globs such as `team-*` work (default: all)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l exclude-namespaces -d 'Namespaces to exclude, comma-separated; globs work' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l include-resources -d 'Resources to include, comma-separated: `deployments.apps`, `deploy`, `Deployment`, `configmaps` (default: all)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l exclude-resources -d 'Resources to exclude, comma-separated, in the same forms' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l include-cluster-resources -d 'Include cluster-scoped objects: true, false, or unset for auto (all of them for a whole-cluster run; for a namespaced run, only those its objects need, such as their CRDs and the PVs bound to their PVCs)' -r -f -a "true\t''
false\t''"
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -s l -l selector -d 'Only objects matching this label selector (`app=web,tier!=cache`)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l or-selector -d 'Objects matching any of these label selectors; repeat the flag for each one' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l ttl -d 'How long to keep the backup; its expiration is recorded with it (default: the config\'s defaultTtl, else 720h)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l storage-location -d 'Storage location to write to (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l snapshot-volumes -d 'Snapshot the disks of the persistent volumes in the backup (default: true when a volume snapshot location is configured or named); `--snapshot-volumes=false` takes none' -r -f -a "true\t''
false\t''"
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l volume-snapshot-location -d 'Volume snapshot location to take the snapshots through (default: the configured default)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l hooks -d 'A YAML file of hooks: commands run in the containers of pods chosen by namespace and label selector, before and after the backup (see the README). A pod\'s own hook annotations (`pre.hook.backup.ark.heptio.com/command`...) take precedence' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -l skip-first -d 'Do not take the first backup right away; wait for the first cron time'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from get" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from get" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from get" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from get" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from get" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from get" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from describe" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from describe" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from describe" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from describe" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from describe" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from describe" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from describe" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from describe" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from delete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from delete" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from delete" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from delete" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from delete" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from pause" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from pause" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from pause" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from pause" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from pause" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from pause" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from pause" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from unpause" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a schedule: backups named SCHEDULE-YYYYMMDDhhmmss at each cron time'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "get" -d 'List schedules with their last and next runs'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "describe" -d 'Show one schedule: its timing, what its backups take and its backups in the local cache'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a schedule (its backups stay until they expire)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "pause" -d 'Stop a schedule from running until it is unpaused'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "unpause" -d 'Let a paused schedule run again (a cron time missed while it was paused runs at once)'
complete -c ark -n "__fish_ark_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ark -n "__fish_ark_using_subcommand daemon" -l sync-interval -d 'How often to sync the local cache from the storage locations' -r
complete -c ark -n "__fish_ark_using_subcommand daemon" -l gc-interval -d 'How often to delete expired backups' -r
complete -c ark -n "__fish_ark_using_subcommand daemon" -l tick -d 'How often to look at the schedules and the state file: a schedule created, paused or due is acted on within this time' -r
complete -c ark -n "__fish_ark_using_subcommand daemon" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand daemon" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand daemon" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand daemon" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand daemon" -l restore-only -d 'Only sync: run no schedules and expire no backups (for disaster recovery into a new cluster, as Ark\'s server\'s restore-only mode)'
complete -c ark -n "__fish_ark_using_subcommand daemon" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand daemon" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand daemon" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand daemon" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand sync" -l storage-location -d 'Only this storage location (default: all of them)' -r
complete -c ark -n "__fish_ark_using_subcommand sync" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand sync" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand sync" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand sync" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand sync" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand sync" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand sync" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand sync" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand gc" -l storage-location -d 'Only this storage location (default: all of them; read-only ones are never touched)' -r
complete -c ark -n "__fish_ark_using_subcommand gc" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand gc" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand gc" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand gc" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand gc" -l dry-run -d 'List what would be deleted, delete nothing'
complete -c ark -n "__fish_ark_using_subcommand gc" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand gc" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand gc" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand gc" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -f -a "view" -d 'Print the effective configuration: the file\'s content plus the defaults that apply'
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -f -a "set-location" -d 'Add or replace a storage location (where backups are kept)'
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -f -a "set-snapshot-location" -d 'Add or replace a volume snapshot location (where PV snapshots are taken)'
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -f -a "delete-location" -d 'Remove a storage location from the configuration (its bucket is not touched)'
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -f -a "delete-snapshot-location" -d 'Remove a volume snapshot location from the configuration (no snapshot is touched)'
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -f -a "check" -d 'Check that storage locations are reachable: write, read back and delete a probe object (read-only locations are only listed)'
complete -c ark -n "__fish_ark_using_subcommand config; and not __fish_seen_subcommand_from view set-location set-snapshot-location delete-location delete-snapshot-location check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from view" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from view" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from view" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from view" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from view" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from view" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from view" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from view" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -l region -d 'Region of the bucket (S3)' -r
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -l endpoint -d 'S3-compatible endpoint, e.g. http://127.0.0.1:9000 for MinIO' -r
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -l profile -d 'AWS credentials profile to use for this location' -r
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -l path-style -d 'Address the bucket as ENDPOINT/BUCKET (MinIO, Ceph and most S3-compatible servers)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -l read-only -d 'Never write to or garbage-collect this location (e.g. an old cluster\'s backups)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -l default -d 'Make this the default storage location'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-location" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -l provider -d 'Cloud provider that takes the snapshots' -r -f -a "aws\t''"
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -l region -d 'Region the volumes live in' -r
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -l endpoint -d 'EC2-compatible endpoint, e.g. a test server' -r
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -l profile -d 'AWS credentials profile to use for this location' -r
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -l default -d 'Make this the default volume snapshot location'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from set-snapshot-location" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-location" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-location" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-location" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-location" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-location" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-location" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-location" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-location" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-snapshot-location" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-snapshot-location" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-snapshot-location" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-snapshot-location" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-snapshot-location" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-snapshot-location" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-snapshot-location" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from delete-snapshot-location" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from check" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from check" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from check" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from check" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from check" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "view" -d 'Print the effective configuration: the file\'s content plus the defaults that apply'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set-location" -d 'Add or replace a storage location (where backups are kept)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set-snapshot-location" -d 'Add or replace a volume snapshot location (where PV snapshots are taken)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "delete-location" -d 'Remove a storage location from the configuration (its bucket is not touched)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "delete-snapshot-location" -d 'Remove a volume snapshot location from the configuration (no snapshot is touched)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check that storage locations are reachable: write, read back and delete a probe object (read-only locations are only listed)'
complete -c ark -n "__fish_ark_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ark -n "__fish_ark_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand completion" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand completion" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand completion" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand completion" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand completion" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand completion" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand completion" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)' -r -F
complete -c ark -n "__fish_ark_using_subcommand version" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c ark -n "__fish_ark_using_subcommand version" -s o -l output -d 'Output format for results on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c ark -n "__fish_ark_using_subcommand version" -l config -d 'ark\'s configuration file (default: $XDG_CONFIG_HOME/ark/config.yaml)' -r -F
complete -c ark -n "__fish_ark_using_subcommand version" -l client -d 'Print only ark\'s version; do not contact the cluster'
complete -c ark -n "__fish_ark_using_subcommand version" -s v -l verbose -d 'More detail on stderr: -v for info, -vv for debug, -vvv for trace'
complete -c ark -n "__fish_ark_using_subcommand version" -s y -l yes -d 'Never prompt: assume yes to confirmations (prompts only ever appear on a terminal)'
complete -c ark -n "__fish_ark_using_subcommand version" -s h -l help -d 'Print help'
complete -c ark -n "__fish_ark_using_subcommand version" -s V -l version -d 'Print version'
complete -c ark -n "__fish_ark_using_subcommand help; and not __fish_seen_subcommand_from backup restore schedule daemon sync gc config completion version help" -f -a "backup" -d 'Create, list, inspect, download and delete backups'
complete -c ark -n "__fish_ark_using_subcommand help; and not __fish_seen_subcommand_from backup restore schedule daemon sync gc config completion version help" -f -a "restore" -d 'Restore from a backup, and list, inspect and delete restores'
complete -c ark -n "__fish_ark_using_subcommand help; and not __fish_seen_subcommand_from backup restore schedule daemon sync gc config completion version help" -f -a "schedule" -d 'Manage schedules that `ark daemon` turns into backups'
complete -c ark -n "__fish_ark_using_subcommand help; and not __fish_seen_subcommand_from backup restore schedule daemon sync gc config completion version help" -f -a "daemon" -d 'Run due schedules, expire backups past their TTL and sync, until stopped'
complete -c ark -n "__fish_ark_using_subcommand help; and not __fish_seen_subcommand_from backup restore schedule daemon sync gc config completion version help" -f -a "sync" -d 'Refresh the local cache of backups and restores from every storage location'
complete -c ark -n "__fish_ark_using_subcommand help; and not __fish_seen_subcommand_from backup restore schedule daemon sync gc config completion version help" -f -a "gc" -d 'Delete every backup past its expiration, with its snapshots and restores'
complete -c ark -n "__fish_ark_using_subcommand help; and not __fish_seen_subcommand_from backup restore schedule daemon sync gc config completion version help" -f -a "config" -d 'View and change ark\'s configuration: storage and volume snapshot locations, defaults'
complete -c ark -n "__fish_ark_using_subcommand help; and not __fish_seen_subcommand_from backup restore schedule daemon sync gc config completion version help" -f -a "completion" -d 'Print shell completions for bash, zsh, fish, elvish or PowerShell'
complete -c ark -n "__fish_ark_using_subcommand help; and not __fish_seen_subcommand_from backup restore schedule daemon sync gc config completion version help" -f -a "version" -d 'Print ark\'s version and the version of the cluster it talks to'
complete -c ark -n "__fish_ark_using_subcommand help; and not __fish_seen_subcommand_from backup restore schedule daemon sync gc config completion version help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "create" -d 'Back up the cluster (or part of it) into a storage location'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "get" -d 'List backups (from the storage location, the source of truth)'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "describe" -d 'Show one backup: phase, filters, counts, warnings, the revision it was taken at'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "logs" -d 'Print a backup\'s log'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "download" -d 'Download a backup\'s archive to a local file'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from backup" -f -a "delete" -d 'Delete backups: their objects in the bucket and their volume snapshots'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from restore" -f -a "create" -d 'Restore objects from a backup into the cluster'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from restore" -f -a "get" -d 'List restores'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from restore" -f -a "describe" -d 'Show one restore: phase, counts, warnings and errors per namespace'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from restore" -f -a "logs" -d 'Print a restore\'s log'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from restore" -f -a "delete" -d 'Delete restore records (the restored objects stay in the cluster)'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "create" -d 'Create a schedule: backups named SCHEDULE-YYYYMMDDhhmmss at each cron time'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "get" -d 'List schedules with their last and next runs'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "describe" -d 'Show one schedule: its timing, what its backups take and its backups in the local cache'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "delete" -d 'Delete a schedule (its backups stay until they expire)'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "pause" -d 'Stop a schedule from running until it is unpaused'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "unpause" -d 'Let a paused schedule run again (a cron time missed while it was paused runs at once)'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "view" -d 'Print the effective configuration: the file\'s content plus the defaults that apply'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set-location" -d 'Add or replace a storage location (where backups are kept)'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set-snapshot-location" -d 'Add or replace a volume snapshot location (where PV snapshots are taken)'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "delete-location" -d 'Remove a storage location from the configuration (its bucket is not touched)'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "delete-snapshot-location" -d 'Remove a volume snapshot location from the configuration (no snapshot is touched)'
complete -c ark -n "__fish_ark_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Check that storage locations are reachable: write, read back and delete a probe object (read-only locations are only listed)'
