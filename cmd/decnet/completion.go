package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// commandTree lists every command and its subcommands, for completion.
var commandTree = map[string][]string{
	"server":      nil,
	"dev":         nil,
	"tokens":      {"create", "list", "revoke"},
	"ca":          {"init", "export-root-key", "rotate-intermediate"},
	"agents":      {"list", "show", "decommission"},
	"retention":   nil,
	"backup":      nil,
	"restore":     nil,
	"version":     nil,
	"login":       nil,
	"events":      {"list", "tail"},
	"attackers":   {"list", "show", "export", "intel", "notes", "note", "triage"},
	"identities":  {"list", "show", "export"},
	"campaigns":   {"list", "show", "export"},
	"credentials": {"list"},
	"users":       {"list", "create", "set-role", "reset-password", "delete"},
	"api-tokens":  {"list", "create", "revoke"},
	"webhooks":    webhookSubcommands,
	"export":      {"list", "test"},
	"settings":    {"show", "set"},
	"completion":  {"bash", "zsh"},
}

var (
	clientFlagNames          = []string{"--server", "--ca-file", "--config", "--output"}
	storeFlagNames           = []string{"--data-dir", "--store", "--database-url-file"}
	webhookSettingsFlagNames = []string{"--name", "--url", "--url-file", "--format", "--subject", "--rate-limit", "--authorization-file"}
	attackerListFlagNames    = []string{"--address", "--address-prefix", "--service", "--decky", "--principal", "--min-events",
		"--since", "--until", "--sort", "--ascending", "--limit"}
)

// commandFlags lists the flags completion offers, by "command subcommand"
// or by command for commands without subcommands. Commands not listed get
// no flag completion.
var commandFlags = map[string][]string{
	"login":                  {"--username", "--scope"},
	"events list":            {"--kind", "--service", "--decky", "--source", "--attacker", "--limit"},
	"events tail":            {"--kind", "--service", "--decky", "--source", "--attacker"},
	"attackers list":         attackerListFlagNames,
	"attackers show":         nil,
	"attackers export":       {"--format"},
	"attackers intel":        {"--refresh"},
	"attackers notes":        nil,
	"attackers note":         {"--delete"},
	"attackers triage":       {"--status", "--tags"},
	"identities list":        {"--min-attackers", "--limit"},
	"identities show":        {"--attacker"},
	"campaigns list":         {"--limit"},
	"campaigns show":         nil,
	"identities export":      {"--format"},
	"campaigns export":       {"--format"},
	"credentials list":       {"--attacker", "--principal", "--limit"},
	"users list":             nil,
	"users create":           {"--role"},
	"users set-role":         {"--role"},
	"users reset-password":   nil,
	"users delete":           nil,
	"api-tokens list":        {"--all"},
	"api-tokens create":      {"--name", "--role", "--ttl", "--scope"},
	"api-tokens revoke":      nil,
	"agents list":            storeFlagNames,
	"agents show":            storeFlagNames,
	"agents decommission":    storeFlagNames,
	"tokens create":          append([]string{"--name", "--ttl", "--label", "--format", "--ca-dir", "--enroll-url"}, storeFlagNames...),
	"tokens list":            storeFlagNames,
	"tokens revoke":          storeFlagNames,
	"webhooks list":          nil,
	"webhooks show":          nil,
	"webhooks create":        append([]string{"--paused"}, webhookSettingsFlagNames...),
	"webhooks update":        append([]string{"--clear-authorization"}, webhookSettingsFlagNames...),
	"webhooks pause":         nil,
	"webhooks resume":        nil,
	"webhooks delete":        nil,
	"webhooks test":          nil,
	"webhooks rotate-secret": {"--grace"},
	"webhooks deliveries":    {"--notice", "--limit"},
	"webhooks dead-letters":  {"--limit"},
	"webhooks replay":        {"--dead-letter"},
	"webhooks suppressions":  nil,
	"webhooks suppress":      {"--webhook", "--prefix", "--agent", "--decky", "--from", "--until", "--for", "--reason"},
	"webhooks unsuppress":    nil,
	"export list":            nil,
	"export test":            nil,
	"settings show":          nil,
	"settings set":           {"--retention", "--require-admin-totp", "--streams-per-user", "--webhook-allow-http", "--webhook-allow-cidrs", "--restore"},
}

// flagValues lists the values completion offers after a flag, by
// "command subcommand --flag".
var flagValues = map[string][]string{
	"attackers export --format": {"jsonl", "stix", "misp"},
	"attackers list --sort":     attackerSortNames,
	"attackers triage --status": {"new", "acknowledged", "false-positive"},
	"tokens create --format":    {"text", "json"},
	"users create --role":       {"viewer", "analyst", "admin"},
	"users set-role --role":     {"viewer", "analyst", "admin"},
	"api-tokens create --role":  {"viewer", "analyst", "admin"},
	"webhooks create --format":  {"generic", "slack", "teams", "discord", "thehive", "wazuh"},
	"webhooks update --format":  {"generic", "slack", "teams", "discord", "thehive", "wazuh"},
}

// completionFlags returns the flags offered for key: the command's own,
// plus the connection flags for the client commands.
func completionFlags(key string) []string {
	flags, ok := commandFlags[key]
	if !ok {
		return nil
	}
	return append(slices.Clone(clientFlagNames), flags...)
}

func runCompletion(args []string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh") {
		return fmt.Errorf("completion: want bash or zsh: %w", errUsage)
	}
	commands := slices.Sorted(maps.Keys(commandTree))

	var subcommands strings.Builder
	for _, c := range commands {
		if subs := commandTree[c]; len(subs) > 0 {
			fmt.Fprintf(&subcommands, "    %s)\n      if [ \"$COMP_CWORD\" -eq 2 ]; then\n        COMPREPLY=($(compgen -W %q -- \"$cur\"))\n        return\n      fi\n      key=\"$1 $2\" ;;\n",
				c, strings.Join(subs, " "))
		}
	}
	var values strings.Builder
	for _, k := range slices.Sorted(maps.Keys(flagValues)) {
		fmt.Fprintf(&values, "    %q) words=%q ;;\n", k, strings.Join(flagValues[k], " "))
	}
	var flags strings.Builder
	for _, k := range slices.Sorted(maps.Keys(commandFlags)) {
		fmt.Fprintf(&flags, "        %q) words=%q ;;\n", k, strings.Join(completionFlags(k), " "))
	}

	script := `# decnet completion; load with: source <(decnet completion SHELL)
_decnet() {
  local cur prev key words
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "` + strings.Join(commands, " ") + `" -- "$cur"))
    return
  fi
  set -- "${COMP_WORDS[1]}" "${COMP_WORDS[2]}"
  key="$1"
  case "$1" in
` + subcommands.String() + `  esac
  case "$key $prev" in
    *" --output") words="table json csv" ;;
` + values.String() + `    *)
      case "$key" in
` + flags.String() + `        *) words="" ;;
      esac ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
`
	if args[0] == "zsh" { //nolint:gosec // G602: len(args) == 1 was checked above
		script += "autoload -Uz bashcompinit && bashcompinit\n"
	}
	script += "complete -F _decnet decnet\n"
	_, err := io.WriteString(stdout, script)
	return err
}
