// Package policy holds the rules that come from the notice as data: which
// materials each series and level must upload, which go to reviewers and
// which stay with administrators, which must carry which masks. The rules
// live in a YAML file (default.yaml is embedded; a deployment may load its
// own), never in code, so that next year's notice is a configuration change.
package policy
