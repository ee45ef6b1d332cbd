// Package chat is what every chat frontend of quotesd needs and is not
// its protocol: an IRC bot, an XMPP bot, and daily webhook posts share it,
// so that a quote bot on a new medium is its connection and its manners,
// and nothing more.
//
// It holds the daily post schedule (Daily): a time of day in the
// library's time zone, a record per target of the last day posted,
// surviving restarts in a state file or shared by replicas through
// DailyClaims, catch-up after downtime, never twice a day.
//
// A chat frontend supplies what only it knows: its targets, as opaque
// strings (IRC channel names, XMPP room JIDs, webhook names) with how they
// fold (IRC's case-insensitive channel names fold to lower case); and how
// a post is made (a Post: find the day's quote for that target, send it in
// the medium's own form). Connections, reconnecting, pacing, formatting
// (colours, NOTICE or message, mentions) stay in the frontend.
package chat
