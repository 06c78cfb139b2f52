import { ApiError, describeError } from './api.js';

/** The camera form's fields that can show an error; masks and zones share one place ("zones"). */
export const FORM_FIELDS = ['name', 'url', 'cropUrl', 'fps', 'threshold', 'labels', 'zones'] as const;
export type FormErrors = Partial<Record<(typeof FORM_FIELDS)[number] | 'form', string>>;

/** Places an API validation error next to the field it is about (the server names the field). */
export function fieldErrors(err: unknown): FormErrors {
  if (!(err instanceof ApiError)) return { form: describeError(err) };
  if (err.status === 401 || err.status === 403) return { form: describeError(err) };
  const named = (err.details?.field as string | undefined) ?? (err.details?.path as string | undefined);
  const guess = named ?? ['name', 'url', 'cropUrl', 'fps', 'threshold', 'labels', 'motionMasks', 'alertZones'].find((f) => new RegExp(`\\b${f}\\b`).test(err.message));
  const field = guess ?? (err.code.startsWith('CAMERA_URL') ? 'url' : undefined);
  if (!field) return { form: err.message };
  const base = field.replace(/^\/?(body\/)?/, '').split(/[.[/]/)[0];
  const index = /\[(\d+)\]|\/(\d+)/.exec(field);
  // The server lists every problem as "field: message; ...": show the first, without its field name.
  const message = err.message.split('; ')[0].replace(/^[\w.[\]/]+: /, '');
  if (base === 'motionMasks' || base === 'alertZones') {
    const which = `${base === 'motionMasks' ? 'Motion mask' : 'Alert zone'}${index ? ` ${Number(index[1] ?? index[2]) + 1}` : 's'}`;
    return { zones: `${which}: ${message}` };
  }
  return (FORM_FIELDS as readonly string[]).includes(base) ? { [base]: message } : { form: err.message };
}
