/**
 * The machinery of Berth's sagas: multi-step operations whose steps are events in the logs of the entities
 * that own them, so a crash of any node resumes or settles them (style habit 16).
 *
 * <p>The pattern, as create and resize use it (the directory coordinates; see cluster-node/README.md):
 * <ol>
 *   <li>The coordinator persists step 1, a numbered reservation ({@code ContainerReserved}, {@code ResizeReserved}):
 *       what the saga holds (capacity, an address) is held from then on.</li>
 *   <li>It asks the entity to carry out the step, naming the reservation. The entity persists
 *       {@code ReservationAccepted} with the step's own events, in one write; a copy of the request is answered
 *       from its state, a request of an older reservation is refused (the fence: {@code lastReservation}).</li>
 *   <li>An answer confirms ({@code ReservationConfirmed}: the coordinator's record follows what the entity
 *       recorded). No answer ({@link io.berth.node.saga.StepAnswer.NoAnswer}) is asked again
 *       ({@link io.berth.node.saga.SagaSettings}).</li>
 *   <li>Compensation ({@code ReservationReleased}) only on an answer that the entity did not and will not carry it
 *       out: the refusal of the only copy ever sent, or the answer to {@code Settle}, for which the entity first
 *       persists {@code ReservationDeclined} (so a late copy is refused for ever).</li>
 *   <li>After the coordinator's recovery, every unsettled reservation is settled ({@link io.berth.node.saga.SagaRun#recovered}).</li>
 * </ol>
 */
package io.berth.node.saga;
