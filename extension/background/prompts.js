// The consent prompt's window: a small popup window, not a tab, so it sits beside the page that asked.

const WIDTH = 480;
const HEIGHT = 800;

export async function openPromptWindow(promptId) {
  const url = chrome.runtime.getURL(`pages/prompt.html?id=${encodeURIComponent(promptId)}`);
  const created = await chrome.windows.create({ type: "popup", url, width: WIDTH, height: HEIGHT, focused: true });
  return created.id;
}

export async function closeWindow(windowId) {
  if (windowId == null) return;
  try {
    await chrome.windows.remove(windowId);
  } catch {
    // already closed
  }
}

export async function windowExists(windowId) {
  if (windowId == null) return false;
  try {
    await chrome.windows.get(windowId);
    return true;
  } catch {
    return false;
  }
}
