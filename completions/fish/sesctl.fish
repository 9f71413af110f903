# fish completion for sesctl.
# Kept in step with `sesctl __complete` (the option and command tables in
# src/cli/cli.c) by tests/integration/test_cli.py: a `complete` line without a
# condition is a global option; one with '__sesctl_smtp_cmd CMD...' belongs
# to exactly those commands.

function __sesctl_no_group
    not __fish_seen_subcommand_from smtp
end

function __sesctl_smtp_no_cmd
    __fish_seen_subcommand_from smtp
    and not __fish_seen_subcommand_from enable rotate disable status derive verify caller-policy
end

function __sesctl_smtp_cmd
    __fish_seen_subcommand_from smtp
    and __fish_seen_subcommand_from $argv
end

# Profile names from the AWS CLI's config and credentials files.
function __sesctl_profiles
    set -l cfg ~/.aws/config
    set -q AWS_CONFIG_FILE[1]; and test -n "$AWS_CONFIG_FILE"; and set cfg (string replace -r '^~/' "$HOME/" -- $AWS_CONFIG_FILE)
    set -l cred ~/.aws/credentials
    set -q AWS_SHARED_CREDENTIALS_FILE[1]; and test -n "$AWS_SHARED_CREDENTIALS_FILE"; and set cred (string replace -r '^~/' "$HOME/" -- $AWS_SHARED_CREDENTIALS_FILE)
    begin
        test -r $cfg; and string replace -r -f '^\s*\[\s*(?:profile\s+(\S.*?)|(default))\s*\].*' '$1$2' <$cfg
        test -r $cred; and string replace -r -f '^\s*\[\s*(\S.*?)\s*\].*' '$1' <$cred
    end | sort -u
end

complete -c sesctl -f

# global options
complete -c sesctl -l ca-bundle -r -F -d 'Trust the CA certificates in FILE'
complete -c sesctl -l debug -d 'Explain each step on stderr (secrets are never shown)'
complete -c sesctl -l endpoint-url -x -d 'IAM endpoint URL'
complete -c sesctl -l help -s h -d 'Show help and exit'
complete -c sesctl -l profile -x -a '(__sesctl_profiles)' -d 'The AWS profile to use'
complete -c sesctl -l quiet -d 'Print errors only'
complete -c sesctl -l region -x -a '(sesctl __complete --values region 2>/dev/null)' -d 'The SES region'
complete -c sesctl -l version -d 'Show the version and exit'
complete -c sesctl -l yes -d 'Do not ask for confirmation'

# commands
complete -c sesctl -n __sesctl_no_group -a smtp -d 'Manage SES SMTP credentials'
complete -c sesctl -n __sesctl_smtp_no_cmd -a enable -d 'Create the IAM user, policy and key; print SMTP settings'
complete -c sesctl -n __sesctl_smtp_no_cmd -a rotate -d 'New SMTP password now; the old key retired'
complete -c sesctl -n __sesctl_smtp_no_cmd -a disable -d 'Delete the IAM user and everything attached'
complete -c sesctl -n __sesctl_smtp_no_cmd -a status -d 'Show the user, policy, keys and warnings'
complete -c sesctl -n __sesctl_smtp_no_cmd -a derive -d 'Turn an IAM secret access key into an SES SMTP password'
complete -c sesctl -n __sesctl_smtp_no_cmd -a verify -d 'Log in to SES SMTP with given settings (no mail sent)'
complete -c sesctl -n __sesctl_smtp_no_cmd -a caller-policy -d 'Print the least-privilege IAM policy for running sesctl'

# options shared by several commands
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate disable status' -l name -x -d 'Which SMTP user: sesctl-smtp-NAME'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate disable status' -l user-name -x -d 'The whole IAM user name'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate disable' -l dry-run -d 'Print the IAM calls that would change something'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate derive' -l format -x -a 'env export dotenv json postfix k8s-secret' -d 'Output format'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate derive' -l k8s-name -x -d 'The Secret name with --format k8s-secret'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate derive' -l k8s-namespace -x -d 'The Secret namespace with --format k8s-secret'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate' -l output-file -r -F -d 'Write the SMTP settings to FILE (mode 0600)'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate' -l verify -d 'Log in to SES SMTP with the new password first'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate verify' -l verify-timeout -x -d 'Keep trying the SMTP login this many seconds'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate verify' -l smtp-endpoint-url -x -d 'Log in at URL instead of the SES SMTP host'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate' -l deploy-hook -x -a '(__fish_complete_command)' -d 'Run CMD once the settings are delivered'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate' -l deploy-hook-timeout -x -d 'Stop the deploy hook after this many seconds'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate caller-policy' -l secrets-manager -x -d 'Deliver the settings to this Secrets Manager secret'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate caller-policy' -l ssm-path -x -d 'Deliver the settings to SSM parameters under PATH'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate caller-policy' -l store-region -x -a '(sesctl __complete --values region 2>/dev/null)' -d 'The region of the secrets and parameters'
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate caller-policy' -l kms-key-id -x -d 'Encrypt a secret sesctl creates with this KMS key'
complete -c sesctl -n '__sesctl_smtp_cmd rotate disable' -l force -d 'Act on an unmanaged user, or past two active keys'
complete -c sesctl -n '__sesctl_smtp_cmd derive verify' -l from-env -d 'Read the secret or settings from the environment'

# smtp enable
complete -c sesctl -n '__sesctl_smtp_cmd enable rotate' -l adopt -d 'Take over an existing IAM user'
complete -c sesctl -n '__sesctl_smtp_cmd enable' -l repair -d 'Rewrite a changed sesctl-ses-send policy'
complete -c sesctl -n '__sesctl_smtp_cmd enable' -l identity -x -d 'Only allow sending as this SES identity'
complete -c sesctl -n '__sesctl_smtp_cmd enable' -l from-address -x -d 'Only allow mail from ADDR'

# smtp rotate
complete -c sesctl -n '__sesctl_smtp_cmd rotate' -l deactivate-old -d 'Set the old key Inactive instead of deleting it'
complete -c sesctl -n '__sesctl_smtp_cmd rotate' -l keep-old -d 'Leave the old key active'
complete -c sesctl -n '__sesctl_smtp_cmd rotate' -l finish -d 'Delete every access key but the newest'
complete -c sesctl -n '__sesctl_smtp_cmd rotate' -l max-age -x -d 'Rotate only when the delivered key is older than DAYS'

# smtp disable
complete -c sesctl -n '__sesctl_smtp_cmd disable' -l format -x -a 'text json' -d 'Output format of --dry-run'
complete -c sesctl -n '__sesctl_smtp_cmd disable' -l keep-stores -d 'Leave the secrets sesctl made for the user'

# smtp status
complete -c sesctl -n '__sesctl_smtp_cmd status' -l all -d 'List every SMTP user sesctl manages'
complete -c sesctl -n '__sesctl_smtp_cmd status' -l format -x -a 'text json prometheus' -d 'Output format'
complete -c sesctl -n '__sesctl_smtp_cmd status' -l check -d 'One summary line and a monitoring exit status'
complete -c sesctl -n '__sesctl_smtp_cmd status' -l warn-age -x -d 'Warn about an active key older than DAYS'
complete -c sesctl -n '__sesctl_smtp_cmd status' -l crit-age -x -d 'An active key older than DAYS is critical'

# smtp derive
complete -c sesctl -n '__sesctl_smtp_cmd derive' -l access-key-id -x -d 'The access key id (the SMTP user name)'
complete -c sesctl -n '__sesctl_smtp_cmd derive' -l legacy-v2 -d 'Use the deprecated v2 algorithm'

# smtp verify
complete -c sesctl -n '__sesctl_smtp_cmd verify' -l credentials-file -r -F -d 'Read the SMTP settings to check from FILE'
complete -c sesctl -n '__sesctl_smtp_cmd verify' -l port -x -a '587\tSTARTTLS 2587\tSTARTTLS 25\tSTARTTLS 465\tTLS 2465\tTLS' -d 'SMTP port'

# smtp caller-policy
complete -c sesctl -n '__sesctl_smtp_cmd caller-policy' -l for -x -a 'enable rotate status disable' -d 'The commands to allow (comma-separated)'
complete -c sesctl -n '__sesctl_smtp_cmd caller-policy' -l account-id -x -d 'The 12-digit AWS account id the resources name'
