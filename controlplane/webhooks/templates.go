package webhooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/decnet/decnet/gen/decnet/api/v1"
)

// Format names the body a destination expects.
type Format string

// Formats.
const (
	// FormatGeneric is {v, id, ts, topic, type, payload} with the notice
	// as payload in proto field names, keys sorted.
	FormatGeneric Format = "generic"
	// FormatSlack is a Slack incoming-webhook message in Block Kit.
	FormatSlack Format = "slack"
	// FormatTeams is a Microsoft Teams message with an Adaptive Card.
	FormatTeams Format = "teams"
	// FormatDiscord is a Discord webhook message with one embed.
	FormatDiscord Format = "discord"
	// FormatTheHive is an alert for TheHive 5 (POST /api/v1/alert).
	FormatTheHive Format = "thehive"
	// FormatWazuh is a request to the Wazuh server API's event ingest
	// (POST /events), one event per notice.
	FormatWazuh Format = "wazuh"
)

// formats lists every format, for validation.
var formats = []Format{FormatGeneric, FormatSlack, FormatTeams, FormatDiscord, FormatTheHive, FormatWazuh}

// truncMarker ends every value cut to a destination's limit, so readers
// know text is missing.
const truncMarker = "…[truncated]"

// truncate cuts s to at most max characters (runes), the marker included.
func truncate(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	keep := max - utf8.RuneCountInString(truncMarker)
	if keep < 0 {
		return string([]rune(truncMarker)[:max])
	}
	return string([]rune(s)[:keep]) + truncMarker
}

// render returns the body of m in format f.
func render(f Format, m message) ([]byte, error) {
	m.notice = outbound(m.notice)
	switch f {
	case FormatGeneric:
		return renderGeneric(m)
	case FormatSlack:
		return json.Marshal(renderSlack(m))
	case FormatTeams:
		return renderTeams(m)
	case FormatDiscord:
		return json.Marshal(renderDiscord(m))
	case FormatTheHive:
		return json.Marshal(renderTheHive(m))
	case FormatWazuh:
		return renderWazuh(m)
	}
	return nil, fmt.Errorf("render: unknown format %q", f)
}

// --- generic ---

// genericVersion is the "v" of the generic envelope; it changes only
// when a field changes meaning.
const genericVersion = 1

func renderGeneric(m message) ([]byte, error) {
	payload, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m.notice)
	if err != nil {
		return nil, fmt.Errorf("render generic: %w", err)
	}
	// Decoding into maps and encoding again sorts the keys and removes
	// protojson's deliberately unstable spacing, so the body of a notice
	// is the same bytes every time.
	var tree any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("render generic: %w", err)
	}
	env := map[string]any{
		"v":       genericVersion,
		"id":      m.notice.GetId(),
		"ts":      m.notice.GetTime().AsTime().UTC().Format(time.RFC3339Nano),
		"topic":   m.notice.GetSubject(),
		"type":    "notice",
		"payload": tree,
	}
	if inc := m.incident; inc != nil {
		env["type"] = "incident"
		env["incident"] = map[string]any{
			"attacker_id": inc.AttackerID,
			"count":       inc.Count,
			"first":       inc.First.UTC().Format(time.RFC3339Nano),
			"last":        inc.Last.UTC().Format(time.RFC3339Nano),
			"subjects":    inc.Subjects,
			"deckies":     nonNil(inc.Deckies),
			"addresses":   nonNil(inc.Addresses),
			"truncated":   inc.Truncated,
		}
	}
	return json.Marshal(env)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// --- Slack ---

// Slack Block Kit limits from Slack's block reference: section text 3000
// characters, at most 10 fields of 2000, header text 150, 50 blocks.
const (
	slackMaxBlocks      = 50
	slackMaxSectionText = 3000
	slackMaxFields      = 10
	slackMaxFieldText   = 2000
	slackMaxHeaderText  = 150
	// slackMaxText keeps the notification fallback within the section
	// limit; Slack truncates longer top-level text anyway.
	slackMaxText = 3000
)

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type   string      `json:"type"`
	Text   *slackText  `json:"text,omitempty"`
	Fields []slackText `json:"fields,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackEscape neutralises the three characters Slack's mrkdwn treats as
// control, so attacker text cannot form links or mention @channel.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func renderSlack(m message) slackMessage {
	f := factsOfMessage(m)
	msg := slackMessage{
		Text: truncate(slackEscape(title(m.notice)+": "+m.notice.GetSummary()), slackMaxText),
	}
	msg.Blocks = append(msg.Blocks,
		slackBlock{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(title(m.notice), slackMaxHeaderText)}},
		slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(slackEscape(m.notice.GetSummary()), slackMaxSectionText)}},
	)
	for chunk := range slices.Chunk(f.facts, slackMaxFields) {
		b := slackBlock{Type: "section"}
		for _, fc := range chunk {
			b.Fields = append(b.Fields, slackText{Type: "mrkdwn",
				Text: truncate("*"+slackEscape(fc.title)+"*\n"+slackEscape(fc.value), slackMaxFieldText)})
		}
		msg.Blocks = append(msg.Blocks, b)
	}
	texts := packLines(f.lines, slackEscape, slackMaxSectionText)
	if room := slackMaxBlocks - len(msg.Blocks); len(texts) > room {
		hidden := len(texts) - (room - 1)
		texts = append(texts[:room-1], fmt.Sprintf("%s %d more sections not shown", truncMarker, hidden))
	}
	for _, text := range texts {
		msg.Blocks = append(msg.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: text}})
	}
	return msg
}

// packLines joins lines, escaped, into texts of at most max characters
// each, one line per row; a line longer than max is cut.
func packLines(lines []string, escape func(string) string, max int) []string {
	var out []string
	var cur strings.Builder
	n := 0
	for _, l := range lines {
		l = truncate(escape(l), max)
		ln := utf8.RuneCountInString(l)
		if n > 0 && n+1+ln > max {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte('\n')
			n++
		}
		cur.WriteString(l)
		n += ln
	}
	if n > 0 {
		out = append(out, cur.String())
	}
	return out
}

// --- Microsoft Teams ---

// Teams limits: Microsoft documents about 28 KB per webhook message, and
// the service counts bytes, so the body stays under 28,000 bytes of UTF-8
// (sent with charset=utf-8, since without it the service may count two
// bytes per character).
// NOTE: card version 1.4 is the highest the Teams clients are assumed to
// render for webhook messages; it has not been tried against Teams.
const (
	teamsMaxBytes    = 28 * 1000
	teamsCardVersion = "1.4"
	teamsContentType = "application/vnd.microsoft.card.adaptive"
	// teamsMaxValue is the first cap on one value; render halves it
	// until the message fits teamsMaxBytes.
	teamsMaxValue = 4000
)

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []teamsElement `json:"body"`
}

type teamsElement struct {
	Type   string      `json:"type"`
	Text   string      `json:"text,omitempty"`
	Weight string      `json:"weight,omitempty"`
	Size   string      `json:"size,omitempty"`
	Wrap   bool        `json:"wrap,omitempty"`
	Facts  []teamsFact `json:"facts,omitempty"`
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// markdownEscape backslash-escapes the markdown that Discord and Adaptive
// Cards interpret, so attacker text cannot form links or emphasis.
func markdownEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\*_~`|<>[]()#", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func renderTeams(m message) ([]byte, error) {
	f := factsOfMessage(m)
	for limit := teamsMaxValue; ; limit /= 2 {
		card := teamsCard{
			Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
			Type:    "AdaptiveCard",
			Version: teamsCardVersion,
			Body: []teamsElement{
				{Type: "TextBlock", Text: truncate(markdownEscape(title(m.notice)), limit), Weight: "Bolder", Size: "Medium", Wrap: true},
				{Type: "TextBlock", Text: truncate(markdownEscape(m.notice.GetSummary()), limit), Wrap: true},
			},
		}
		facts := teamsElement{Type: "FactSet"}
		for _, fc := range f.facts {
			facts.Facts = append(facts.Facts, teamsFact{Title: truncate(markdownEscape(fc.title), limit), Value: truncate(markdownEscape(fc.value), limit)})
		}
		if len(facts.Facts) > 0 {
			card.Body = append(card.Body, facts)
		}
		if len(f.lines) > 0 {
			escaped := make([]string, len(f.lines))
			for i, l := range f.lines {
				escaped[i] = markdownEscape(l)
			}
			// Adaptive Card markdown needs a blank line for a line break.
			card.Body = append(card.Body, teamsElement{Type: "TextBlock", Text: truncate(strings.Join(escaped, "\n\n"), 4*limit), Wrap: true})
		}
		body, err := json.Marshal(teamsMessage{
			Type:        "message",
			Attachments: []teamsAttachment{{ContentType: teamsContentType, Content: card}},
		})
		if err != nil {
			return nil, fmt.Errorf("render teams: %w", err)
		}
		// With a floor of 32 characters per value the size is bounded
		// by the fact count, which factsOf keeps small.
		if len(body) <= teamsMaxBytes || limit <= 32 {
			return body, nil
		}
	}
}

// --- Discord ---

// Discord limits, as Discord's message reference states them: content
// 2000 characters, 10 embeds, and the embed limits below.
const (
	discordMaxContent     = 2000
	discordMaxEmbeds      = 10
	discordMaxTitle       = 256
	discordMaxDescription = 4096
	discordMaxFields      = 25
	discordMaxFieldName   = 256
	discordMaxFieldValue  = 1024
	discordMaxFooter      = 2048
	// discordMaxEmbedTotal bounds the characters of all embeds together.
	discordMaxEmbedTotal = 6000
	// discordColour is the embed's side bar, an amber that reads as a
	// warning on both themes.
	discordColour = 0xE8A317
)

type discordMessage struct {
	Content         string          `json:"content"`
	Embeds          []discordEmbed  `json:"embeds"`
	AllowedMentions discordMentions `json:"allowed_mentions"`
}

// discordMentions with an empty Parse stops @everyone, @here and user or
// role mentions in attacker text from pinging anyone.
type discordMentions struct {
	Parse []string `json:"parse"`
}

type discordEmbed struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	Timestamp   string         `json:"timestamp,omitempty"`
	Color       int            `json:"color"`
	Fields      []discordField `json:"fields,omitempty"`
	Footer      *discordFooter `json:"footer,omitempty"`
}

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type discordFooter struct {
	Text string `json:"text"`
}

func (e discordEmbed) chars() int {
	n := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
	for _, f := range e.Fields {
		n += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
	}
	if e.Footer != nil {
		n += utf8.RuneCountInString(e.Footer.Text)
	}
	return n
}

func renderDiscord(m message) discordMessage {
	f := factsOfMessage(m)
	embed := discordEmbed{
		Title:  truncate(markdownEscape(title(m.notice)), discordMaxTitle),
		Color:  discordColour,
		Footer: &discordFooter{Text: truncate("DECNET notice "+m.notice.GetId(), discordMaxFooter)},
	}
	if m.notice.GetTime() != nil {
		embed.Timestamp = m.notice.GetTime().AsTime().UTC().Format(time.RFC3339)
	}
	desc := markdownEscape(m.notice.GetSummary())
	if lines := packLines(f.lines, markdownEscape, discordMaxDescription); len(lines) > 0 {
		desc += "\n\n" + strings.Join(lines, "\n")
	}
	embed.Description = truncate(desc, discordMaxDescription)
	for i, fc := range f.facts {
		if i == discordMaxFields {
			break
		}
		embed.Fields = append(embed.Fields, discordField{
			Name:   truncate(markdownEscape(fc.title), discordMaxFieldName),
			Value:  truncate(markdownEscape(fc.value), discordMaxFieldValue),
			Inline: true,
		})
	}
	// The total limit: shorten the description first, then drop fields.
	if over := embed.chars() - discordMaxEmbedTotal; over > 0 {
		keep := max(utf8.RuneCountInString(embed.Description)-over, utf8.RuneCountInString(truncMarker))
		embed.Description = truncate(embed.Description, keep)
	}
	for embed.chars() > discordMaxEmbedTotal && len(embed.Fields) > 0 {
		embed.Fields = embed.Fields[:len(embed.Fields)-1]
	}
	return discordMessage{
		Content:         truncate(markdownEscape(title(m.notice)+": "+m.notice.GetSummary()), discordMaxContent),
		Embeds:          []discordEmbed{embed},
		AllowedMentions: discordMentions{Parse: []string{}},
	}
}

// --- TheHive ---

// TheHive 5 alert values. TheHive refuses a second alert with the same
// type, source and sourceRef, so sourceRef is the notice id.
const (
	theHiveSource = "DECNET"
	// Severity 1 low, 2 medium, 3 high, 4 critical.
	theHiveSeverityLow    = 1
	theHiveSeverityMedium = 2
	theHiveSeverityHigh   = 3
	// theHiveAmber is TLP and PAP 2 (amber): share within the
	// organisation, as fits notes about live attackers.
	theHiveAmber = 2
	// theHiveMaxTitle and theHiveMaxDescription keep alerts readable;
	// TheHive stores longer values, but its list views do not.
	theHiveMaxTitle       = 512
	theHiveMaxDescription = 48000
	theHiveMaxTags        = 50
)

type theHiveAlert struct {
	Type        string              `json:"type"`
	Source      string              `json:"source"`
	SourceRef   string              `json:"sourceRef"`
	Title       string              `json:"title"`
	Description string              `json:"description"`
	Severity    int                 `json:"severity"`
	Date        int64               `json:"date"`
	Tags        []string            `json:"tags"`
	TLP         int                 `json:"tlp"`
	PAP         int                 `json:"pap"`
	Observables []theHiveObservable `json:"observables"`
}

type theHiveObservable struct {
	DataType string   `json:"dataType"`
	Data     string   `json:"data"`
	Message  string   `json:"message,omitempty"`
	Tags     []string `json:"tags,omitempty"`
}

func theHiveSeverity(m message) int {
	switch {
	case m.notice.GetSubject() == SubjectTest:
		return theHiveSeverityLow
	case m.notice.GetCredentialReuse() != nil:
		return theHiveSeverityHigh
	case m.incident != nil && m.incident.Subjects["credential.reuse.detected"] > 0:
		return theHiveSeverityHigh
	}
	return theHiveSeverityMedium
}

func renderTheHive(m message) theHiveAlert {
	f := factsOfMessage(m)
	var desc strings.Builder
	desc.WriteString(markdownEscape(m.notice.GetSummary()) + "\n\n")
	for _, fc := range f.facts {
		desc.WriteString("- **" + markdownEscape(fc.title) + "**: " + markdownEscape(fc.value) + "\n")
	}
	for _, l := range f.lines {
		desc.WriteString("- " + markdownEscape(l) + "\n")
	}
	tags := []string{"decnet", "subject:" + m.notice.GetSubject()}
	for _, d := range f.deckies {
		tags = append(tags, "decky:"+d)
	}
	if se := m.notice.GetEvent(); se != nil && se.GetEvent().GetService() != "" {
		tags = append(tags, "service:"+se.GetEvent().GetService())
	}
	slices.Sort(tags[2:])
	tags = slices.Compact(tags)
	if len(tags) > theHiveMaxTags {
		tags = tags[:theHiveMaxTags]
	}
	alert := theHiveAlert{
		Type:        m.notice.GetSubject(),
		Source:      theHiveSource,
		SourceRef:   m.notice.GetId(),
		Title:       truncate(title(m.notice)+": "+m.notice.GetSummary(), theHiveMaxTitle),
		Description: truncate(desc.String(), theHiveMaxDescription),
		Severity:    theHiveSeverity(m),
		Date:        m.notice.GetTime().AsTime().UnixMilli(),
		Tags:        tags,
		TLP:         theHiveAmber,
		PAP:         theHiveAmber,
		Observables: []theHiveObservable{},
	}
	for _, a := range addresses(m) {
		alert.Observables = append(alert.Observables, theHiveObservable{
			DataType: "ip", Data: a, Message: "attacker source address", Tags: []string{"decnet"},
		})
	}
	return alert
}

// testNotice is the message Test sends.
func testNotice(id, name string, now time.Time) *apiv1.Notice {
	return &apiv1.Notice{
		Id:      id,
		Subject: SubjectTest,
		Time:    timestamppb.New(now),
		Summary: "Test notice for webhook " + name + ": deliveries reach this destination.",
	}
}
