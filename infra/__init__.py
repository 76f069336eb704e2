"""What runs bangfu: schema migrations (`infra/migrations`), deployment and example settings."""
