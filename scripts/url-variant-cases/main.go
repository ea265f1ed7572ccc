// Command url-variant-cases prints what this Go toolchain's net/url does with each input the
// way the kubelet parses matchImages patterns (ParseSchemelessURL: url.Parse("https://"+s)).
// It reads a JSON array of strings on stdin and writes a JSON array of
// {"host","path"} or {"error"} objects, one per input, on stdout.
//
// Used only by scripts/gen-url-variant-cases.sh to (re)generate
// tests/conformance/url_variant_cases.json; no test needs Go.
package main

import (
	"encoding/json"
	"net/url"
	"os"
)

type result struct {
	Host  *string `json:"host,omitempty"`
	Path  *string `json:"path,omitempty"`
	Error *string `json:"error,omitempty"`
}

func main() {
	var inputs []string
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	out := make([]result, 0, len(inputs))
	for _, s := range inputs {
		u, err := url.Parse("https://" + s)
		if err != nil {
			msg := err.Error()
			out = append(out, result{Error: &msg})
			continue
		}
		host, path := u.Host, u.Path
		out = append(out, result{Host: &host, Path: &path})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
