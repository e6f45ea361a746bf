/** Posts the vendor's batch upload form to a listening test server. */
export async function uploadBatch(
  baseUrl: string,
  key: string,
  file: { name: string; content: string | Buffer } | undefined,
  fields: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  if (file) form.append('file', new Blob([file.content]), file.name);
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const response = await fetch(`${baseUrl}/api/call/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The vendor's example form, for a user and calling number of the test tenant. */
export function vendorFields(
  userId: string,
  callingNumberId: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    userId,
    batchName: 'Marketing Campaign May 2025',
    batchType: 'outbound',
    callingNumbers: JSON.stringify([callingNumberId]),
    enableDNC: 'true',
    type: 'false',
    retry: '3',
    delay: '60',
    timezone: 'America/New_York',
    callingHour: '{"start":"09:00","end":"17:00"}',
    allowedDays: '[1,2,3,4,5]',
    ...overrides,
  };
}
