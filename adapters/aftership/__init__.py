"""AfterShip: its status vocabulary (tags and subtags) only; parcelflow has no AfterShip client."""
