package core

import (
	"github.com/elevenrelay/elevenrelay/internal/envvar"

	"fmt"
	"net/netip"
	"strings"
)

// elevenLabsEgress are the static addresses ElevenLabs sends webhooks from,
// by region, as ElevenLabs publishes them.
var elevenLabsEgress = map[string][]string{
	"us":           {"34.67.146.145", "34.59.11.47"},
	"eu":           {"35.204.38.71", "34.147.113.54"},
	"asia":         {"35.185.187.110", "35.247.157.189"},
	"eu-residency": {"34.77.234.246", "34.140.184.144"},
	"india":        {"34.93.26.174", "34.93.252.69"},
	"singapore":    {"34.87.23.17", "34.126.179.103"},
}

// Allowlist admits callers by address. It is a second fence, off by default:
// the signature remains the real defence, since addresses can change and
// proxies can be misconfigured.
type Allowlist struct {
	prefixes []netip.Prefix
}

// ParseAllowlist reads a comma-separated list of CIDRs, single addresses and
// presets: "elevenlabs" (every region) or "elevenlabs-<region>" with region
// one of us, eu, asia, eu-residency, india, singapore. An empty spec gives
// nil: no allowlist.
func ParseAllowlist(spec string) (*Allowlist, error) {
	a := &Allowlist{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
			continue
		case item == "elevenlabs":
			for _, ips := range elevenLabsEgress {
				if err := a.add(ips...); err != nil {
					return nil, err
				}
			}
		case strings.HasPrefix(item, "elevenlabs-"):
			ips, ok := elevenLabsEgress[strings.TrimPrefix(item, "elevenlabs-")]
			if !ok {
				return nil, fmt.Errorf("%w: %s: unknown allowlist preset %q: want elevenlabs or elevenlabs-<region> (us, eu, asia, eu-residency, india, singapore)", ErrConfig, envvar.SourceAllowlist, item)
			}
			if err := a.add(ips...); err != nil {
				return nil, err
			}
		default:
			if err := a.add(item); err != nil {
				return nil, err
			}
		}
	}
	if len(a.prefixes) == 0 {
		return nil, nil
	}
	return a, nil
}

func (a *Allowlist) add(items ...string) error {
	for _, item := range items {
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return badAllowlistEntry(item)
			}
			a.prefixes = append(a.prefixes, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(item)
		if err != nil {
			return badAllowlistEntry(item)
		}
		a.prefixes = append(a.prefixes, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
	}
	return nil
}

// Allows reports whether ip is on the list. An unparsable or empty address
// is not.
func (a *Allowlist) Allows(ip string) bool {
	if a == nil {
		return true
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range a.prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// badAllowlistEntry names the variable and what it takes: netip's own
// message ("ParseAddr(…): unable to parse IP") says neither.
func badAllowlistEntry(item string) error {
	return fmt.Errorf("%w: %s entry %q: want an IP address, a CIDR such as 192.0.2.0/24, or a preset (elevenlabs, elevenlabs-<region>)", ErrConfig, envvar.SourceAllowlist, item)
}
