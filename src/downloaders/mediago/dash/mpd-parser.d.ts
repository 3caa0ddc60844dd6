// mpd-parser ships no types: only the calls this folder makes, with the shapes we read.
declare module 'mpd-parser' {
  /** The xmldom element mpd-parser works on (a subset of the DOM Element API). */
  export interface MpdNode {
    readonly tagName?: string;
    readonly nodeType: number;
    readonly childNodes: ArrayLike<MpdNode>;
    readonly textContent: string | null;
    getAttribute(name: string): string | null;
    setAttribute(name: string, value: string): void;
    getElementsByTagName(name: string): ArrayLike<MpdNode>;
  }

  export interface MpdByteRange {
    offset: number | bigint;
    length: number | bigint;
  }

  export interface MpdSegmentReference {
    uri: string;
    resolvedUri: string;
    byterange?: MpdByteRange;
  }

  export interface MpdSegment extends MpdSegmentReference {
    duration: number;
    number: number;
    presentationTime?: number;
    timeline?: number;
    map?: MpdSegmentReference;
  }

  export interface RepresentationInfo {
    attributes: Record<string, unknown>;
    segmentInfo: { template?: Record<string, unknown>; segmentTimeline?: unknown[]; list?: Record<string, unknown>; base?: Record<string, unknown> };
  }

  export interface DashPlaylist {
    attributes: Record<string, unknown>;
    /** Absent for a representation that has only a BaseURL (attributes.baseUrl is the resource). */
    segments?: MpdSegment[];
    /** Present for SegmentBase with an indexRange: where the sidx box is, and the init section. */
    sidx?: MpdSegment;
  }

  export function stringToMpdXml(manifest: string): MpdNode;
  export function inheritAttributes(mpd: MpdNode, options?: { manifestUri?: string; NOW?: number; clientOffset?: number }): { representationInfo: RepresentationInfo[]; locations?: string[] };
  export function toPlaylists(representations: RepresentationInfo[]): DashPlaylist[];
}
