package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// commandTree lists every command and its subcommands, for completion.
var commandTree = map[string][]string{
	"server":      nil,
	"dev":         nil,
	"tokens":      {"create", "list", "revoke"},
	"ca":          {"init", "export-root-key", "rotate-intermediate"},
	"agents":      {"list", "decommission"},
	"retention":   nil,
	"backup":      nil,
	"restore":     nil,
	"version":     nil,
	"login":       nil,
	"events":      {"list", "tail"},
	"attackers":   {"list", "show", "export"},
	"credentials": {"list"},
	"users":       {"list", "create", "set-role", "reset-password", "delete"},
	"completion":  {"bash", "zsh"},
}

func runCompletion(args []string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh") {
		return fmt.Errorf("completion: want bash or zsh: %w", errUsage)
	}
	commands := make([]string, 0, len(commandTree))
	for c := range commandTree {
		commands = append(commands, c)
	}
	sort.Strings(commands)

	var cases strings.Builder
	for _, c := range commands {
		if subs := commandTree[c]; len(subs) > 0 {
			fmt.Fprintf(&cases, "    %s) words=%q ;;\n", c, strings.Join(subs, " "))
		}
	}
	script := `# decnet completion; load with: source <(decnet completion SHELL)
_decnet() {
  local cur words
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="` + strings.Join(commands, " ") + `"
  elif [ "$COMP_CWORD" -eq 2 ]; then
    case "${COMP_WORDS[1]}" in
` + cases.String() + `    *) words="" ;;
    esac
  else
    words="--server --ca-file --config --output"
  fi
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
