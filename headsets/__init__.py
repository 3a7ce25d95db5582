"""The agent's side: the headset's state and how it travels to the ACD (MQTT)."""
