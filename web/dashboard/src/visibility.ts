/**
 * Images are only fetched while the page is visible: a hidden tab keeps its alert list current (the
 * socket stays open) but downloads no snapshot until someone looks at it again.
 */
const waiting = new Map<HTMLImageElement, string>();

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  for (const [img, url] of waiting) swapImage(img, url);
  waiting.clear();
});

export function pageVisible(): boolean {
  return document.visibilityState === 'visible';
}

/**
 * Shows `url` in `img` without a blank moment: the new picture is loaded off-screen and swapped in
 * once decoded; the old one stays until then (and stays if the new one fails).
 */
export function swapImage(img: HTMLImageElement, url: string, onError?: () => void): void {
  if (img.dataset.src === url) return;
  if (!pageVisible()) {
    waiting.set(img, url);
    return;
  }
  img.dataset.src = url;
  if (!img.getAttribute('src')) {
    img.src = url;
    if (onError) img.addEventListener('error', onError, { once: true });
    return;
  }
  const next = new Image();
  next.onload = () => {
    if (img.dataset.src === url) img.src = url;
  };
  next.onerror = () => onError?.();
  next.src = url;
}
