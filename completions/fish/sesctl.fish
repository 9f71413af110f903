# fish completion for sesctl.
# Kept in step with `sesctl __complete` by tests/integration/test_cli.py.

function __sesctl_no_group
    not __fish_seen_subcommand_from smtp
end

function __sesctl_smtp_no_cmd
    __fish_seen_subcommand_from smtp; and not __fish_seen_subcommand_from derive
end

function __sesctl_smtp_derive
    __fish_seen_subcommand_from smtp; and __fish_seen_subcommand_from derive
end

complete -c sesctl -f

# global options
complete -c sesctl -l debug -d 'Explain each step on stderr (secrets are never shown)'
complete -c sesctl -l help -s h -d 'Show help and exit'
complete -c sesctl -l quiet -d 'Print errors only'
complete -c sesctl -l region -x -a '(sesctl __complete --values region 2>/dev/null)' -d 'The SES region'
complete -c sesctl -l version -d 'Show the version and exit'

complete -c sesctl -n __sesctl_no_group -a smtp -d 'Manage SES SMTP credentials'
complete -c sesctl -n __sesctl_smtp_no_cmd -a derive -d 'Turn an IAM secret access key into an SES SMTP password'

# smtp derive
complete -c sesctl -n __sesctl_smtp_derive -l access-key-id -x -d 'The access key id (the SMTP user name)'
complete -c sesctl -n __sesctl_smtp_derive -l format -x -a 'env export dotenv json postfix' -d 'Output format'
complete -c sesctl -n __sesctl_smtp_derive -l from-env -d 'Read the secret from AWS_SECRET_ACCESS_KEY'
complete -c sesctl -n __sesctl_smtp_derive -l legacy-v2 -d 'Use the deprecated v2 algorithm'
