"""What runs bangfu: schema migrations (`infra/migrations`), deployment files and example settings."""
