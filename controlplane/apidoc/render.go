package apidoc

import (
	"bytes"
	_ "embed" // for the go:embed directive
	"fmt"
	"html/template"
	"strings"
)

// The procedures the page's curl examples call. A test checks that they
// still exist, so a rename cannot leave the examples wrong.
const (
	loginProcedure   = "/decnet.api.v1.AuthService/Login"
	exampleProcedure = "/decnet.api.v1.EventService/ListEvents"
)

//go:embed reference.html.tmpl
var pageTemplate string

// page is the template's input: the reference arranged for reading, with
// every request and response shown under its procedure and the other
// messages listed once as shared types.
type page struct {
	Package          string
	Services         []serviceView
	Types            []messageView
	Enums            []enumView
	LoginProcedure   string
	ExampleProcedure string
}

type serviceView struct {
	Service
	Paragraphs []string
	Procedures []procedureView
}

type procedureView struct {
	Procedure
	Anchor     string
	Paragraphs []string
	Request    messageView
	Response   messageView
}

type messageView struct {
	Message
	Anchor     string
	Paragraphs []string
	Fields     []fieldView
}

type fieldView struct {
	Field
	Type       typeLink
	MapKey     string
	Paragraphs []string
}

// typeLink is a field type as shown: short within the package, linked
// when the page documents it.
type typeLink struct {
	Label string
	Href  string
}

type enumView struct {
	Enum
	Anchor     string
	Paragraphs []string
	Values     []enumValueView
}

type enumValueView struct {
	EnumValue
	Paragraphs []string
}

func render(ref *Reference) ([]byte, error) {
	tmpl, err := template.New("reference").Parse(pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("parse reference template: %w", err)
	}

	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, newPage(ref)); err != nil {
		return nil, fmt.Errorf("render api reference: %w", err)
	}
	return buf.Bytes(), nil
}

func newPage(ref *Reference) page {
	messages := make(map[string]Message, len(ref.Messages))
	for _, m := range ref.Messages {
		messages[m.FullName] = m
	}
	documented := make(map[string]bool, len(ref.Messages)+len(ref.Enums))
	for _, m := range ref.Messages {
		documented[m.FullName] = true
	}
	for _, e := range ref.Enums {
		documented[e.FullName] = true
	}
	v := viewer{pkg: ref.Package, documented: documented, anchored: make(map[string]bool)}

	p := page{
		Package:          ref.Package,
		LoginProcedure:   loginProcedure,
		ExampleProcedure: exampleProcedure,
	}
	for _, s := range ref.Services {
		sv := serviceView{Service: s, Paragraphs: paragraphs(s.Comment)}
		for _, proc := range s.Procedures {
			sv.Procedures = append(sv.Procedures, procedureView{
				Procedure:  proc,
				Anchor:     procedureAnchor(proc.Path),
				Paragraphs: paragraphs(proc.Comment),
				Request:    v.message(messages[proc.Request], proc.Request),
				Response:   v.message(messages[proc.Response], proc.Response),
			})
		}
		p.Services = append(p.Services, sv)
	}
	for _, m := range ref.Messages {
		if !v.anchored[m.FullName] {
			p.Types = append(p.Types, v.message(m, m.FullName))
		}
	}
	for _, e := range ref.Enums {
		p.Enums = append(p.Enums, v.enum(e))
	}
	return p
}

// procedureAnchor is the method's full name, such as
// decnet.api.v1.AuthService.Login: the path itself would need its slashes
// escaped in every link to it.
func procedureAnchor(path string) string {
	return strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", ".")
}

// viewer converts the model for the template. It gives each type its
// anchor where it is first shown, so every link has one target.
type viewer struct {
	pkg        string
	documented map[string]bool
	anchored   map[string]bool
}

func (v viewer) message(m Message, fullName string) messageView {
	mv := messageView{Message: m, Paragraphs: paragraphs(m.Comment)}
	if m.FullName == "" {
		// Not documented, such as google.protobuf.Empty: show the name.
		mv.Name, mv.FullName = v.short(fullName), fullName
	}
	if !v.anchored[fullName] {
		v.anchored[fullName] = true
		mv.Anchor = fullName
	}
	for _, f := range m.Fields {
		fv := fieldView{Field: f, Type: v.link(f.Type), MapKey: f.MapKey, Paragraphs: paragraphs(f.Comment)}
		mv.Fields = append(mv.Fields, fv)
	}
	return mv
}

func (v viewer) enum(e Enum) enumView {
	ev := enumView{Enum: e, Anchor: e.FullName, Paragraphs: paragraphs(e.Comment)}
	for _, val := range e.Values {
		ev.Values = append(ev.Values, enumValueView{EnumValue: val, Paragraphs: paragraphs(val.Comment)})
	}
	return ev
}

func (v viewer) link(typ string) typeLink {
	l := typeLink{Label: v.short(typ)}
	if v.documented[typ] {
		l.Href = "#" + typ
	}
	return l
}

// short drops the package prefix from the API's own types. Others keep
// their full names so that a reader sees where they come from.
func (v viewer) short(fullName string) string {
	if name, ok := strings.CutPrefix(fullName, v.pkg+"."); ok {
		return name
	}
	return fullName
}

// paragraphs splits a comment at blank lines. Line breaks inside a
// paragraph are the proto file's wrapping, which HTML reflows.
func paragraphs(comment string) []string {
	var out []string
	for _, p := range strings.Split(comment, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
