// Waypoint planner for the Falcon drones (owner: dwhitfield).
export interface Waypoint {
  lat: number;
  lon: number;
  altitudeM: number;
}

/** Straight-line distance in metres between two waypoints, ignoring altitude. */
export function distanceM(a: Waypoint, b: Waypoint): number {
  const r = 6_371_000;
  const dLat = ((b.lat - a.lat) * Math.PI) / 180;
  const dLon = ((b.lon - a.lon) * Math.PI) / 180;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos((a.lat * Math.PI) / 180) * Math.cos((b.lat * Math.PI) / 180) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(h));
}
