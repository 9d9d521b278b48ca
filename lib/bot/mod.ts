/**
 * Bots: automated chat participants (see {@linkcode Bot}).
 *
 * @module
 */

export {
  Bot,
  type BotContext,
  type BotMessage,
  type BotOptions,
  type BotReply,
} from "./bot.ts";
