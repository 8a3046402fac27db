package mailbox

// The word lists messages are drawn from. All ASCII, so that headers need
// no MIME encoding and every IMAP string is a plain quoted string.

var firstNames = []string{
	"Anna", "Ben", "Carla", "David", "Elena", "Frank", "Greta", "Hugo",
	"Irene", "Jonas", "Karin", "Lukas", "Maria", "Nico", "Olga", "Peter",
	"Rita", "Simon", "Tanja", "Victor",
}

var lastNames = []string{
	"Adler", "Baker", "Costa", "Dietrich", "Evans", "Fischer", "Garcia",
	"Hartmann", "Jensen", "Keller", "Lorenz", "Moreau", "Novak", "Olsen",
	"Peters", "Rossi", "Schmidt", "Turner", "Vogel", "Weber",
}

var partnerDomains = []string{
	"northwind-logistics.com", "brightline-consulting.net", "alpen-data.de",
	"meridian-supply.co.uk", "castor-engineering.eu", "bluepeak-systems.com",
}

var serviceDomains = []string{
	"accounts.hostingpartner.net", "billing.cloudvault.io", "it.example-corp.com",
	"notifications.ticketdesk.app", "backup.datakeep.net",
}

var junkDomains = []string{
	"secure-mail-verify.top", "mailbox-quota-center.xyz", "account-alerts.click",
}

// zoneOffsets are the UTC offsets senders write Date headers in, in
// seconds.
var zoneOffsets = []int{0, 3600, 7200, -18000, -14400, 19800}

type template struct {
	subject  string
	body     string
	external bool // sent by a service rather than a person
}

var inboxTemplates = []template{
	{subject: "Invoice 2024-0193 overdue", body: "Hello {to},\n\nour records show invoice 2024-0193 as unpaid. Please arrange payment\nwithin seven days or contact us if this has been settled already.\n\nKind regards,\n{from}\n"},
	{subject: "Re: VPN access for the new laptop", body: "Hi {to},\n\nthe VPN profile is set up. Use your usual account; the one-time\npassword comes by SMS. Let me know if it does not connect.\n\n{from}\n"},
	{subject: "Nightly backup report", external: true, body: "Backup job: mail-daily\nStatus: completed with warnings\nFiles: 48213\nTransferred: 3.1 GB\nWarnings: 2 files skipped (locked)\n"},
	{subject: "Meeting notes - Thursday", body: "Hi all,\n\nnotes from Thursday:\n- server migration moved to next month\n- budget review pending\n- {to} to collect the firewall change requests\n\nBest,\n{from}\n"},
	{subject: "Your password will expire in 5 days", external: true, body: "Dear user,\n\nthe password of your account expires in 5 days. Change it from the\nself-service portal before then to keep access to mail and VPN.\n\nIT Service Desk\n"},
	{subject: "Quarterly figures", body: "Hi {to},\n\nattached summary of the quarterly figures as discussed. Revenue is up\n4 percent, costs are on plan. Full report follows next week.\n\nThanks,\n{from}\n"},
	{subject: "Ticket #48213 updated", external: true, body: "Ticket #48213 (Printer on 2nd floor offline) was updated.\n\nStatus: Waiting for customer\nComment: Please confirm the printer can be restarted.\n"},
	{subject: "Re: contract renewal", body: "Dear {to},\n\nthank you for the draft. Legal has two small remarks on section 4; I\nwill send them tomorrow. Otherwise we are fine to sign.\n\nBest regards,\n{from}\n"},
	{subject: "Lunch on Friday?", body: "Hi {to},\n\nare you free for lunch on Friday? The new place near the station\nopened last week.\n\n{from}\n"},
}

var sentTemplates = []template{
	{subject: "Re: server maintenance window", body: "Hi {to},\n\nSaturday 22:00 works for us. We will stop the mail service for about\nan hour.\n\nRegards,\n{from}\n"},
	{subject: "Updated contact list", body: "Hello {to},\n\nplease find the updated contact list below. Let me know if anything is\nmissing.\n\nThanks,\n{from}\n"},
	{subject: "Re: Quarterly figures", body: "Thanks {to}, looks good. I will forward it to management.\n\n{from}\n"},
}
