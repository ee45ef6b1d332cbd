package main

// `quotesd completion bash|zsh|fish`: shell completion scripts, written
// from the commands and flags the binary declares (see help.go), so that
// they list what this very quotesd takes.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

func init() {
	subcommands["completion"] = &subcommand{
		summary: "print the shell completion script for bash, zsh or fish",
		args:    "bash|zsh|fish",
		detail: `Load it for this shell with:
  bash:  source <(quotesd completion bash)
  zsh:   source <(quotesd completion zsh)
  fish:  quotesd completion fish | source
or install it for good:
  bash:  quotesd completion bash > /usr/share/bash-completion/completions/quotesd
  zsh:   quotesd completion zsh > "${fpath[1]}/_quotesd"
  fish:  quotesd completion fish > ~/.config/fish/completions/quotesd.fish`,
		run:     runCompletion,
		choices: shells,
	}
}

// shells are the shells completion writes a script for.
var shells = []string{"bash", "zsh", "fish"}

func runCompletion(ctx context.Context, g *globals, args []string) error {
	if len(args) != 1 {
		return usagef("completion takes one shell: bash, zsh or fish, e.g. 'quotesd completion bash'")
	}
	spec := completionSpec()
	switch args[0] {
	case "bash":
		return writeBash(g.Stdout, spec)
	case "zsh":
		return writeZsh(g.Stdout, spec)
	case "fish":
		return writeFish(g.Stdout, spec)
	}
	return usagef("completion: unknown shell %q: want bash, zsh or fish", args[0])
}

// compFlag is a flag as a completion offers it.
type compFlag struct {
	name  string
	arg   string // the value's placeholder; "" for a bool flag
	short string // a short description
	files bool   // the value is a file
	dirs  bool   // the value is a directory
}

// compCommand is a command as a completion offers it.
type compCommand struct {
	name    string
	summary string
	flags   []compFlag // its own, and the global ones
	files   bool       // its arguments are files
	choices []string   // the words its arguments are one of
}

// compSpec is everything the completion scripts offer.
type compSpec struct {
	globals  []compFlag
	commands []compCommand
}

func completionSpec() compSpec {
	spec := compSpec{globals: compFlags(globalFlags())}
	for _, name := range commandNames() {
		if name == "help" {
			spec.commands = append(spec.commands, compCommand{name: name, summary: "print the help of quotesd or of a command", choices: commandNames()[1:]})
			continue
		}
		cmd := subcommands[name]
		c := compCommand{name: name, summary: cmd.summary, flags: compFlags(commandFlags(cmd)), files: cmd.files, choices: cmd.choices}
		if !cmd.ownArgs {
			c.flags = append(c.flags, spec.globals...)
		}
		spec.commands = append(spec.commands, c)
	}
	return spec
}

func compFlags(fl []*flag.Flag) []compFlag {
	var cs []compFlag
	for _, f := range fl {
		arg, usage := flag.UnquoteUsage(f)
		c := compFlag{name: f.Name, short: shortUsage(usage)}
		if takesValue(f) {
			c.arg = arg
			c.files = arg == "file"
			c.dirs = arg == "dir"
		}
		cs = append(cs, c)
	}
	return cs
}

// shortUsage is the first clause of a flag's help, for a completion menu:
// up to the first semicolon outside parentheses, at most 80 characters.
func shortUsage(usage string) string {
	usage = strings.TrimSuffix(usage, " (live)")
	depth := 0
clause:
	for i := 0; i < len(usage); i++ {
		switch usage[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ';':
			if depth == 0 {
				usage = usage[:i]
				break clause
			}
		}
	}
	if r := []rune(usage); len(r) > 80 {
		usage = string(r[:77]) + "..."
	}
	return usage
}

// valueFlags returns the names of the flags of spec that take a value, in
// three groups: files, directories and the rest.
func (spec compSpec) valueFlags() (files, dirs, other []string) {
	seen := map[string]bool{}
	add := func(f compFlag) {
		if f.arg == "" || seen[f.name] {
			return
		}
		seen[f.name] = true
		switch {
		case f.files:
			files = append(files, "--"+f.name)
		case f.dirs:
			dirs = append(dirs, "--"+f.name)
		default:
			other = append(other, "--"+f.name)
		}
	}
	for _, f := range spec.globals {
		add(f)
	}
	for _, c := range spec.commands {
		for _, f := range c.flags {
			add(f)
		}
	}
	return files, dirs, other
}

func (spec compSpec) names() []string {
	var names []string
	for _, c := range spec.commands {
		names = append(names, c.name)
	}
	return names
}

func flagWords(fl []compFlag) string {
	var w []string
	for _, f := range fl {
		w = append(w, "--"+f.name)
	}
	return strings.Join(append(w, "--help"), " ")
}

func writeBash(w io.Writer, spec compSpec) error {
	var b strings.Builder
	fmt.Fprintf(&b, `# bash completion for quotesd, made by 'quotesd completion bash' (quotesd %s).
# Load it with: source <(quotesd completion bash); or save it as
# /usr/share/bash-completion/completions/quotesd.

_quotesd() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd i
	# --flag=value: bash splits it at the =.
	if [[ $cur == = ]]; then
		cur=
	elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
		prev=${COMP_WORDS[COMP_CWORD-2]}
	fi
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		%s)
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done
`, build.Version, strings.Join(spec.names(), "|"))
	files, dirs, other := spec.valueFlags()
	b.WriteString("\tcase $prev in\n")
	if len(files) > 0 {
		fmt.Fprintf(&b, "\t%s)\n\t\tcompopt -o filenames 2>/dev/null\n\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n\t\treturn\n\t\t;;\n", strings.Join(files, "|"))
	}
	if len(dirs) > 0 {
		fmt.Fprintf(&b, "\t%s)\n\t\tcompopt -o filenames 2>/dev/null\n\t\tmapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n\t\treturn\n\t\t;;\n", strings.Join(dirs, "|"))
	}
	if len(other) > 0 {
		fmt.Fprintf(&b, "\t%s)\n\t\treturn # a value: nothing to offer\n\t\t;;\n", strings.Join(other, "|"))
	}
	b.WriteString("\tesac\n")
	fmt.Fprintf(&b, `	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W '%s' -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W '%s' -- "$cur")
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		case $cmd in
`, flagWords(spec.globals), strings.Join(spec.names(), " "))
	for _, c := range spec.commands {
		if c.name == "help" {
			continue
		}
		fmt.Fprintf(&b, "\t\t%s) mapfile -t COMPREPLY < <(compgen -W '%s' -- \"$cur\") ;;\n", c.name, flagWords(c.flags))
	}
	b.WriteString("\t\tesac\n\t\treturn\n\tfi\n\tcase $cmd in\n")
	for _, c := range spec.commands {
		switch {
		case len(c.choices) > 0:
			fmt.Fprintf(&b, "\t%s) mapfile -t COMPREPLY < <(compgen -W '%s' -- \"$cur\") ;;\n", c.name, strings.Join(c.choices, " "))
		case c.files:
			fmt.Fprintf(&b, "\t%s)\n\t\tcompopt -o filenames 2>/dev/null\n\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n\t\t;;\n", c.name)
		}
	}
	b.WriteString("\tesac\n}\n\ncomplete -F _quotesd quotesd\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// zshQuote quotes s for a single-quoted zsh word inside an _arguments
// description, where ] and \ are special.
func zshQuote(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `]`, `\]`, `[`, `\[`, `:`, `\:`).Replace(s)
	return strings.ReplaceAll(s, "'", `'\''`)
}

func zshSpecs(fl []compFlag, indent string) string {
	var specs []string
	for _, f := range fl {
		spec := "--" + f.name
		switch {
		case f.arg == "":
			spec += "[" + zshQuote(f.short) + "]"
		case f.files:
			spec += "=[" + zshQuote(f.short) + "]:file:_files"
		case f.dirs:
			spec += "=[" + zshQuote(f.short) + "]:directory:_files -/"
		default:
			spec += "=[" + zshQuote(f.short) + "]:" + strings.ReplaceAll(zshQuote(f.arg), " ", "_") + ": "
		}
		specs = append(specs, "'"+spec+"'")
	}
	specs = append(specs, "'(- *)--help[show the help]'")
	return strings.Join(specs, " \\\n"+indent)
}

func writeZsh(w io.Writer, spec compSpec) error {
	var b strings.Builder
	fmt.Fprintf(&b, `#compdef quotesd
# zsh completion for quotesd, made by 'quotesd completion zsh' (quotesd %s).
# Save it as _quotesd in a directory of $fpath, or load it with:
# source <(quotesd completion zsh)

_quotesd() {
	local curcontext=$curcontext state line ret=1
	local -a commands
	commands=(
`, build.Version)
	for _, c := range spec.commands {
		fmt.Fprintf(&b, "\t\t'%s:%s'\n", c.name, strings.ReplaceAll(c.summary, "'", `'\''`))
	}
	fmt.Fprintf(&b, `	)
	_arguments -C \
		%s \
		': :->command' \
		'*:: :->argument' && ret=0
	case $state in
	command)
		_describe -t commands 'quotesd command' commands && ret=0
		;;
	argument)
		curcontext=${curcontext%%:*:*}:quotesd-$words[1]:
		case $words[1] in
`, zshSpecs(spec.globals, "\t\t"))
	for _, c := range spec.commands {
		if c.name == "help" {
			b.WriteString("\t\thelp)\n\t\t\t_describe -t commands 'quotesd command' commands && ret=0\n\t\t\t;;\n")
			continue
		}
		fmt.Fprintf(&b, "\t\t%s)\n\t\t\t_arguments \\\n\t\t\t\t%s", c.name, zshSpecs(c.flags, "\t\t\t\t"))
		switch {
		case len(c.choices) > 0:
			fmt.Fprintf(&b, " \\\n\t\t\t\t':argument:(%s)'", strings.Join(c.choices, " "))
		case c.files:
			b.WriteString(" \\\n\t\t\t\t'*:file:_files'")
		}
		b.WriteString(" && ret=0\n\t\t\t;;\n")
	}
	b.WriteString(`		esac
		;;
	esac
	return ret
}

if [[ $funcstack[1] == _quotesd ]]; then
	_quotesd "$@"
else
	compdef _quotesd quotesd
fi
`)
	_, err := io.WriteString(w, b.String())
	return err
}

// fishQuote quotes s as a single-quoted fish string.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func fishFlag(b *strings.Builder, cond string, f compFlag) {
	b.WriteString("complete -c quotesd")
	if cond != "" {
		fmt.Fprintf(b, " -n %s", fishQuote(cond))
	}
	fmt.Fprintf(b, " -l %s", f.name)
	switch {
	case f.files:
		b.WriteString(" -r -F")
	case f.dirs:
		b.WriteString(" -x -a '(__fish_complete_directories)'")
	case f.arg != "":
		b.WriteString(" -x")
	}
	fmt.Fprintf(b, " -d %s\n", fishQuote(f.short))
}

func writeFish(w io.Writer, spec compSpec) error {
	var b strings.Builder
	names := strings.Join(spec.names(), " ")
	fmt.Fprintf(&b, `# fish completion for quotesd, made by 'quotesd completion fish' (quotesd %s).
# Save it as ~/.config/fish/completions/quotesd.fish, or load it with:
# quotesd completion fish | source

complete -c quotesd -f
complete -c quotesd -s h -l help -d 'show the help'
`, build.Version)
	noCommand := "not __fish_seen_subcommand_from " + names
	for _, c := range spec.commands {
		fmt.Fprintf(&b, "complete -c quotesd -n %s -a %s -d %s\n", fishQuote(noCommand), c.name, fishQuote(c.summary))
	}
	for _, f := range spec.globals {
		fishFlag(&b, "", f) // before or after the command
	}
	global := map[string]bool{}
	for _, f := range spec.globals {
		global[f.name] = true
	}
	for _, c := range spec.commands {
		cond := "__fish_seen_subcommand_from " + c.name
		for _, f := range c.flags {
			if !global[f.name] {
				fishFlag(&b, cond, f)
			}
		}
		switch {
		case len(c.choices) > 0:
			fmt.Fprintf(&b, "complete -c quotesd -n %s -x -a %s\n", fishQuote(cond), fishQuote(strings.Join(c.choices, " ")))
		case c.files:
			fmt.Fprintf(&b, "complete -c quotesd -n %s -F\n", fishQuote(cond))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
