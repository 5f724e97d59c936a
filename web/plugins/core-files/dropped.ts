// What a person hands over to upload: files, or whole folders (dropped, or picked with
// the folder picker), each file with the folder it sits in below the drop point.

export interface Picked {
  file: File;
  /** `''` for the drop point itself, else `pack/config`. */
  folder: string;
}

/** The most files one drop may hold; past it the person is told to pack them first. */
export const MAX_FILES = 10_000;

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

function childrenOf(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

async function walk(entry: FileSystemEntry, folder: string, files: Picked[], empty: string[]): Promise<void> {
  if (files.length > MAX_FILES) {
    return;
  }
  if (entry.isFile) {
    files.push({ file: await fileOf(entry as FileSystemFileEntry), folder });
    return;
  }
  if (!entry.isDirectory) {
    return;
  }
  const inside = folder === '' ? entry.name : `${folder}/${entry.name}`;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  let seen = 0;
  // A directory reader hands its entries over in batches until one comes back empty.
  for (;;) {
    const batch = await childrenOf(reader);
    if (batch.length === 0) {
      break;
    }
    seen += batch.length;
    for (const child of batch) {
      await walk(child, inside, files, empty);
    }
  }
  if (seen === 0) {
    empty.push(inside);
  }
}

/** Everything a drop holds, folders walked to the bottom. */
export async function droppedFiles(transfer: DataTransfer): Promise<{ files: Picked[]; empty: string[] }> {
  const files: Picked[] = [];
  const empty: string[] = [];
  // Entries must be taken before the first await: the drop's data goes away after.
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry());
  const loose = [...transfer.files];
  for (const [index, entry] of entries.entries()) {
    if (entry === null) {
      const file = loose[index];
      if (file !== undefined) {
        files.push({ file, folder: '' });
      }
    } else {
      await walk(entry, '', files, empty);
    }
  }
  return { files, empty };
}

/** Files from the pickers; the folder picker gives each its path below the folder. */
export function pickedFiles(list: FileList | null): Picked[] {
  return [...(list ?? [])].map((file) => {
    const relative = file.webkitRelativePath;
    const cut = relative.lastIndexOf('/');
    return { file, folder: cut === -1 ? '' : relative.slice(0, cut) };
  });
}
