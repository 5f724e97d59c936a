// Form fields from a plugin's settings JSON Schema (an object of properties). Each
// property becomes the control its type wants; anything the form cannot show as a
// plain control (nested objects, mixed arrays) is edited as JSON.

export type SettingField =
  | { key: string; title: string; description: string; kind: 'text'; sealed: boolean; options?: string[] }
  | { key: string; title: string; description: string; kind: 'number'; integer: boolean; min?: number; max?: number }
  | { key: string; title: string; description: string; kind: 'switch' }
  | { key: string; title: string; description: string; kind: 'list' }
  | { key: string; title: string; description: string; kind: 'json' };

type Schema = Record<string, unknown>;

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function number(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function settingFields(schema: unknown): SettingField[] {
  const properties = (schema as { properties?: unknown } | null)?.properties;
  if (typeof properties !== 'object' || properties === null) {
    return [];
  }
  return Object.entries(properties as Record<string, Schema>).map(([key, property]) => {
    const base = { key, title: text(property.title) || key, description: text(property.description) };
    const type = Array.isArray(property.type) ? property.type.find((t) => t !== 'null') : property.type;
    if (Array.isArray(property.enum) && property.enum.every((option) => typeof option === 'string')) {
      return { ...base, kind: 'text', sealed: false, options: property.enum };
    }
    switch (type) {
      case 'string':
        return { ...base, kind: 'text', sealed: property.writeOnly === true };
      case 'integer':
      case 'number': {
        const min = number(property.minimum);
        const max = number(property.maximum);
        return {
          ...base,
          kind: 'number',
          integer: type === 'integer',
          ...(min === undefined ? {} : { min }),
          ...(max === undefined ? {} : { max }),
        };
      }
      case 'boolean':
        return { ...base, kind: 'switch' };
      case 'array':
        return (property.items as Schema | undefined)?.type === 'string'
          ? { ...base, kind: 'list' }
          : { ...base, kind: 'json' };
      default:
        return { ...base, kind: 'json' };
    }
  });
}
