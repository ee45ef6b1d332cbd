package publish

import (
	"strings"
	"testing"
)

func TestParseSpec_TakesEveryKindWithItsSecretsByReference(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Spec
	}{
		{"team=slack:@/etc/quotesd/slack-url", Spec{Name: "team", Kind: Slack, Location: "@/etc/quotesd/slack-url"}},
		{"poems=discord:env:DISCORD_POEMS?tag=poetry", Spec{Name: "poems", Kind: Discord, Location: "env:DISCORD_POEMS", Tag: "poetry"}},
		{"phone=ntfy:https://ntfy.sh/my-quotes-7f3a", Spec{Name: "phone", Kind: Ntfy, Location: "https://ntfy.sh/my-quotes-7f3a"}},
		{"phone=ntfy:https://ntfy.example.org/q?secret=@/etc/quotesd/ntfy-token&collection=club", Spec{Name: "phone", Kind: Ntfy, Location: "https://ntfy.example.org/q", Collection: "club", Secret: "@/etc/quotesd/ntfy-token"}},
		{"desk=gotify:https://gotify.example.org?secret=env:GOTIFY_TOKEN", Spec{Name: "desk", Kind: Gotify, Location: "https://gotify.example.org", Secret: "env:GOTIFY_TOKEN"}},
		{"robot=json:https://n8n.example.org/webhook/q?x=1&secret=@/run/secrets/hmac", Spec{Name: "robot", Kind: JSON, Location: "https://n8n.example.org/webhook/q?x=1", Secret: "@/run/secrets/hmac"}},
	} {
		got, err := ParseSpec(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
		if again, err := ParseSpec(got.String()); err != nil || again != got {
			t.Errorf("%s: String() %q parses to %+v, %v", tc.in, got.String(), again, err)
		}
	}
}

func TestParseSpec_RefusesSecretsInTheOpen(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"team=slack:https://hooks.slack.com/services/T0/B0/Zq9Slack", "holds its token"},
		{"gamers=discord:https://discord.com/api/webhooks/1/Zq9Disc", "holds its token"},
		{"desk=gotify:https://gotify.example.org/message?token=Zq9Got", "holds a token"},
		{"phone=ntfy:https://user:Zq9Pw@ntfy.example.org/q", "user or password"},
		{"robot=json:https://example.org/hook", "needs the key"},
		{"desk=gotify:https://gotify.example.org", "needs its application token"},
		{"robot=json:https://example.org/hook?secret=Zq9Hunter", "want @/path/to/file or env:VAR"},
		{"x=irc:https://example.org", "want one of slack, discord, ntfy, gotify, json"},
		{"Team=slack:@/x", "lower-case"},
		{"team=slack:@relative/path", "absolute path"},
		{"team=slack:@/x?colour=red", "unknown option"},
		{"team", "NAME=KIND:URL"},
		{"team=slack:ftp://x", "want an http(s) URL"},
	} {
		_, err := ParseSpec(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one saying %q", tc.in, err, tc.want)
		}
		for _, secret := range []string{"Zq9"} {
			if err != nil && strings.Contains(err.Error(), secret) && strings.Contains(tc.in, secret) {
				t.Errorf("%s: the error repeats the secret %q: %v", tc.in, secret, err)
			}
		}
	}
}

func TestConfig_RefusesTwoTargetsOfOneName(t *testing.T) {
	c := Config{Targets: []string{"a=slack:@/x", "a=discord:@/y"}, At: "07:30", Timeout: DefaultTimeout, BackoffMin: 1, BackoffMax: 1}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "two targets named a") {
		t.Errorf("Validate = %v", err)
	}
	c.Targets, c.At = nil, "7:30"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--publish-at") {
		t.Errorf("Validate of 7:30 = %v", err)
	}
}
