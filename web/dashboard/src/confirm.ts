/**
 * A yes/no question in a modal dialog (the browser's confirm() blocks the page and cannot be
 * styled or labelled). Escape or Cancel answer no.
 */
export function confirmAction(title: string, text: string, yesLabel: string): Promise<boolean> {
  const dialog = document.getElementById('confirm-dialog') as HTMLDialogElement;
  (document.getElementById('confirm-title') as HTMLElement).textContent = title;
  (document.getElementById('confirm-text') as HTMLElement).textContent = text;
  (document.getElementById('confirm-yes') as HTMLButtonElement).textContent = yesLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true });
    dialog.showModal();
    (document.getElementById('confirm-no') as HTMLButtonElement).focus();
  });
}
