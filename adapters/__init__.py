"""Platform adapters: each converts platform events to `bot.messages.Message` and renders `Reply`."""
