// Package chat is what every chat frontend of quotesd needs and is not
// its protocol. The IRC bot, an XMPP bot and daily webhook posts share
// it, so that a quote bot on a new medium is its connection and its
// manners, and nothing more: one place decides what "!today poetry"
// means, how long a user waits between commands, how a long quote is cut
// and when the daily post is due.
//
// What it holds:
//
//   - Parse reads a command ("!quote", "!quote words", "!quote #42",
//     "!quote @collection", "!today [tag] [lang:xx] [date]",
//     "!yesterday", "!help", and the curation commands) into a Command;
//   - Cooldowns (per user and per room), DailyCap (one person's changes
//     a day) and Backoff (reconnecting with jitter);
//   - Dispatcher answers a Command from the library (Answer), or a whole
//     Message (Handle: parse, cooldowns, answer, fit), with the rooms'
//     own collections and the core's errors mapped to what a user is told;
//   - Fit, Split, SplitKeeping and Sanitize make a reply safe and cut it
//     to the medium's byte budget per line and number of lines, keeping a
//     quote's attribution;
//   - Daily is the daily post schedule: a time of day in the library's
//     zone, the last day posted per target, a state file surviving
//     restarts or DailyClaims shared by replicas, catch-up after
//     downtime, never twice a day; PostDue and Run take a Post that
//     finds and sends a post in one, ComposeDue a Compose that finds it
//     before the post is claimed and sends it after;
//   - NewMetrics names a frontend's commands and dropped counters.
//
// What a chat frontend supplies: its connection and everything about it
// (registration, pacing, keep-alives, reconnecting); its targets, as
// opaque strings (IRC channel names, XMPP room JIDs, webhook names), and
// how they fold (IRC channel names are case-insensitive:
// DailyConfig.Fold is strings.ToLower there) and which collections each
// is served (Dispatcher.Collections); how a reply is sent and formatted
// (IRC: PRIVMSG, NOTICE, its line budget after the relay prefix); a Post
// for the daily post; and, for the curation commands (IsCuration), who may
// curate, which is a matter of the medium (IRC: hostmasks, services
// accounts, channel operators) and so stays in the frontend.
//
// A minimal bot:
//
//	d := &chat.Dispatcher{Name: "xmpp", Library: lib, Calendar: cal, Log: log,
//		Prefix: func() string { return "!" }, Cooldowns: &cooldowns,
//		Metrics: chat.NewMetrics(reg, "xmpp", "XMPP"), Width: 1000, Lines: 3}
//	lines, err := d.Handle(ctx, chat.Message{Room: room, User: nick, Text: body})
//
// and its daily post:
//
//	daily, err := chat.NewDaily(chat.DailyConfig{Name: "xmpp", Clock: "09:00",
//		StateFile: file, Targets: rooms, Calendar: cal, Log: log})
//	go daily.Run(ctx, joinedRooms, func(ctx context.Context, room string, day quoter.Date) error {
//		text, tail, err := d.QuoteOfDay(ctx, room, day)
//		if err != nil {
//			return err
//		}
//		return send(room, chat.Fit(text, tail, 1000, 3))
//	})
package chat
