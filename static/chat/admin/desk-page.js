/* A page with the desk bar and nothing else live (the metrics screen): alerts for new chats,
 * the tab title, times in the browser's zone. */
import { startDesk } from "./desk.js";

startDesk();
