package chat

// Reasons a request is dropped in silence, as the "reason" label of a chat
// frontend's dropped_total counter.
const (
	DropUserCooldown = "user_cooldown"    // the user asked too recently
	DropRoomCooldown = "channel_cooldown" // the room was answered too recently
	DropQueueFull    = "queue_full"       // the bot's output queue is full
	DropDailyCap     = "daily_cap"        // the person made their day's changes
)
