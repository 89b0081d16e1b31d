package terraform_test

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// cfnTemplate is template.yaml as plain maps, lists and strings, with the
// short intrinsic tags spelled out: !Sub x is {"Fn::Sub": x}, !Ref x is
// {"Ref": x}, !GetAtt a.b is {"Fn::GetAtt": "a.b"}.
type cfnTemplate map[string]any

func loadTemplate(t *testing.T) cfnTemplate {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(mustRead(t, "../template.yaml"), &doc); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	m, ok := cfnValue(&doc).(map[string]any)
	if !ok {
		t.Fatal("template.yaml is not a mapping")
	}
	return m
}

func cfnValue(n *yaml.Node) any {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		return cfnValue(n.Content[0])
	case yaml.AliasNode:
		return cfnValue(n.Alias)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = cfnValue(n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			l = append(l, cfnValue(c))
		}
		v = l
	default:
		v = n.Value
	}
	if tag, ok := strings.CutPrefix(n.Tag, "!"); ok && !strings.HasPrefix(tag, "!") {
		if tag != "Ref" && tag != "Condition" {
			tag = "Fn::" + tag
		}
		return map[string]any{tag: v}
	}
	return v
}

// at walks keys (map keys, or list indexes as "0", "1", …) and fails the
// test if the path is absent.
func at(t *testing.T, v any, path ...string) any {
	t.Helper()
	if c, ok := v.(cfnTemplate); ok {
		v = map[string]any(c)
	}
	for i, k := range path {
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[k]
			if !ok {
				t.Fatalf("template.yaml: no %s", strings.Join(path[:i+1], "."))
			}
			v = next
		case []any:
			var n int
			if _, err := fmt.Sscan(k, &n); err != nil || n >= len(c) {
				t.Fatalf("template.yaml: no %s", strings.Join(path[:i+1], "."))
			}
			v = c[n]
		default:
			t.Fatalf("template.yaml: %s is not a mapping or list", strings.Join(path[:i], "."))
		}
	}
	return v
}

func (c cfnTemplate) resource(t *testing.T, name string) map[string]any {
	t.Helper()
	r, ok := at(t, map[string]any(c), "Resources", name).(map[string]any)
	if !ok {
		t.Fatalf("template.yaml: resource %s is not a mapping", name)
	}
	return r
}

// str is a scalar, or the string inside a one-key intrinsic ({"Fn::Sub":
// "…"} gives "…"); GetAtt gives "Resource.Attribute".
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if len(x) == 1 {
			for _, inner := range x {
				if s, ok := inner.(string); ok {
					return s
				}
			}
		}
	}
	return fmt.Sprint(v)
}

func strMap(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, x := range m {
		out[k] = str(x)
	}
	return out
}

func strList(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, str(x))
	}
	return out
}

// openAPIIntegration reads an x-amazon-apigateway-integration, whose
// responses are keyed by selection pattern ("default" for none).
func openAPIIntegration(t *testing.T, v any) apiIntegration {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatal("x-amazon-apigateway-integration is not a mapping")
	}
	in := apiIntegration{
		Type:                 str(m["type"]),
		HTTPMethod:           str(m["httpMethod"]),
		URI:                  str(m["uri"]),
		Credentials:          str(m["credentials"]),
		PassthroughBehavior:  str(m["passthroughBehavior"]),
		ContentHandling:      strings.TrimPrefix(str(m["contentHandling"]), "<nil>"),
		RequestParameters:    strMap(m["requestParameters"]),
		RequestTemplates:     strMap(m["requestTemplates"]),
		IntegrationResponses: map[string]apiResponse{},
	}
	responses, _ := m["responses"].(map[string]any)
	for pattern, rv := range responses {
		r, _ := rv.(map[string]any)
		resp := apiResponse{
			StatusCode:         str(r["statusCode"]),
			ResponseParameters: strMap(r["responseParameters"]),
			ResponseTemplates:  strMap(r["responseTemplates"]),
		}
		if pattern != "default" {
			resp.SelectionPattern = pattern
		}
		in.IntegrationResponses[resp.StatusCode] = resp
	}
	return in
}
