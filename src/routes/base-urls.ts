/**
 * Base URLs clients are given. Claude Code first sends a bodiless GET or HEAD to its base URL before any
 * API call; answering it plainly (no key needed, nothing about the configuration in it) keeps that check
 * from failing. Its own module so that the OpenAPI description can list them without importing the app.
 */
export const BASE_URLS = ["/", "/v1", "/openai/v1", "/anthropic", "/anthropic/v1"];
